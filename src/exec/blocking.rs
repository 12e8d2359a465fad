//! Work that blocks its thread (an fsync, a process spawn: under load the kernel may take tens
//! of milliseconds to schedule the child before it execs) done from the executor's async code.
//! On a worker thread of the multi-threaded runtime the thread's other tasks (log pumps, the
//! other runs of a ForEach or Parallel) move to another thread meanwhile, so one slow call
//! never stalls the runs beside it.

/// Runs `f`, which may block its thread, without holding up the runtime's other tasks.
pub fn off_worker<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        // No runtime (a test, a synchronous caller), or a single-threaded one: nothing to move.
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::off_worker;

    #[test]
    fn runs_the_same_with_any_runtime_or_none() {
        assert_eq!(off_worker(|| 1), 1);
        let single = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(single.block_on(async { off_worker(|| 2) }), 2);
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let got = multi.block_on(async { tokio::spawn(async { off_worker(|| 3) }).await });
        assert_eq!(got.unwrap(), 3);
    }
}
