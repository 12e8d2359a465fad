//! Task types, other than the script languages, that run a container or a host program: the
//! CLI tasks (dbt, terraform, aws, gcp, azure, ansible), docker Run/Build/Push, git Clone.
//!
//! A CLI task is a container script (`Execution::ContainerScript`): Kestra's plugin runs its
//! `commands` with `/bin/sh -c` (ansible: `/bin/bash -c`) in its default image, and turns some
//! of its own properties into environment variables, files in the working directory or
//! commands run first. Those are data here ([`CliAdapter`]: property → env var, property →
//! file) plus, where a plugin does more (dbt's command suffixes, azure's login, aws's `aws
//! configure set`), one pure function of the property values. The reader
//! (`decode::task`) reads each own property as text and hands the values to [`adapt_cli`].
//!
//! Each default is taken from the plugin's source at the commit named in its comment.

use std::collections::BTreeMap;

use super::ex;
use super::{
    BEFORE_COMMANDS, COMMON_TASK, ENV, Execution, INPUT_FILES, LEGACY_DOCKER, LEGACY_RUNNER,
    OUTPUT_FILES, Object, Property, RUNNER, SCRIPT, SET_E, SH, SH_TEXT, ScriptBody, TASK_RUNNER,
    TaskType, Ty, ignored, read, refused, required, with_default,
};

/// A CLI task's `containerImage`, with the plugin's default.
macro_rules! cli_image {
    ($image:literal) => {
        Property {
            example: Some("ghcr.io/org/image:1.0"),
            ..with_default(
                "containerImage",
                Ty::Image,
                concat!("\"", $image, "\""),
                "The image the task runs in.",
            )
        }
    };
}

/// A CLI task's `commands`.
const CLI_COMMANDS: Property = Property {
    example: Some(r#"["echo {{ vars.greeting }}"]"#),
    ..required(
        "commands",
        Ty::NonEmptyStrings,
        "The commands to run, one per line of the script given to `/bin/sh -c`; at least one. May use `{{ ... }}` expressions.",
    )
};

/// A CLI task's execution: its commands, run by `interpreter` in `image`.
const fn cli(
    image: &'static str,
    interpreter: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
) -> Execution {
    Execution::ContainerScript {
        body: ScriptBody::Commands,
        default_image: image,
        interpreter,
        fail_fast: SET_E,
        env,
        file: None,
    }
}

const BASH: &[&str] = &["/bin/bash", "-c"];

// kestra-io/plugin-dbt@582b89219788ac3a1ca64ed5d5f738c9ab75b0cb, cli/DbtCLI.java:
// CORE_IMAGE, FUSION_IMAGE, addEnv(PYTHONUNBUFFERED, PIP_ROOT_USER_ACTION), AbstractExecScript's
// interpreter `/bin/sh -c`.
const DBT_IMAGE: &str = "ghcr.io/kestra-io/dbt";
const DBT_FUSION_IMAGE: &str = "ghcr.io/kestra-io/dbt-fusion";
const DBT_LOG_FORMATS: &[&str] = &["JSON", "TEXT", "DEBUG", "NONE"];
const DBT_ENGINES: &[&str] = &["CORE", "FUSION"];

const DBT_OWN: &[Property] = &[
    CLI_COMMANDS,
    Property {
        example: Some(
            "\"my_project:\\n  outputs:\\n    dev: {type: duckdb, path: ':memory:'}\\n  target: dev\\n\"",
        ),
        ..read(
            "profiles",
            Ty::Text,
            "The content of `profiles.yml`, written to the working directory (over an input file of that name).",
        )
    },
    Property {
        example: Some("dbt"),
        ..read(
            "projectDir",
            Ty::Text,
            "The dbt project's directory, relative to the working directory: added as `--project-dir` to each command that starts with `dbt`.",
        )
    },
    Property {
        example: Some("TEXT"),
        ..with_default(
            "logFormat",
            Ty::Enum(DBT_LOG_FORMATS),
            "\"JSON\"",
            "Added as `--log-format` (lowercase) to each command that starts with `dbt`, unless NONE; `--log-path logs` is added too, as Kestra does.",
        )
    },
    Property {
        example: Some("CORE"),
        ..with_default(
            "engine",
            Ty::Enum(DBT_ENGINES),
            "\"CORE\"",
            "The image used without `containerImage`: CORE `ghcr.io/kestra-io/dbt`, FUSION `ghcr.io/kestra-io/dbt-fusion`.",
        )
    },
    ex(
        "true",
        ignored(
            "parseRunResults",
            "run_results.json is not parsed into outputs; keep it with `outputFiles: [target/run_results.json]`",
        ),
    ),
    Property {
        example: Some("{key: manifest.json, namespace: company.team}"),
        ..read(
            "storeManifest",
            Ty::Object(&DBT_KV_MANIFEST),
            "After the commands (whatever their result), `target/manifest.json` (under `projectDir`) is parsed as JSON and stored under `key` in `namespace` of the local KV store; it is kept as an output file too. No manifest: a warning, nothing stored.",
        )
    },
    Property {
        example: Some("{key: manifest.json, namespace: company.team}"),
        ..read(
            "loadManifest",
            Ty::Object(&DBT_KV_MANIFEST),
            "Before the commands, the KV entry `key` of `namespace` is written to `target/manifest.json` (under `projectDir`), as text (a JSON value serialized); a missing entry is a warning.",
        )
    },
];

/// `storeManifest` / `loadManifest` of DbtCLI (plugin-dbt's `KvStoreManifest`: both required).
pub static DBT_KV_MANIFEST: Object = Object {
    kind: "dbtKvManifest",
    title: "dbt manifest in the KV store",
    doc: "Where in the local KV store dbt's `manifest.json` is kept.",
    properties: &[&[
        Property {
            example: Some("manifest.json"),
            ..required(
                "key",
                Ty::Text,
                "The KV key; may use `{{ ... }}` expressions.",
            )
        },
        Property {
            example: Some("company.team"),
            ..required(
                "namespace",
                Ty::Text,
                "The KV namespace; may use `{{ ... }}` expressions.",
            )
        },
    ]],
};

// kestra-io/plugin-terraform@df41fc46f98b06bb6dc0de09b28265c80151548c, cli/TerraformCLI.java:
// DEFAULT_IMAGE, interpreter `/bin/sh -c` (no `interpreter` property), entrypoint `[""]`.
const TERRAFORM_OWN: &[Property] = &[CLI_COMMANDS];

// kestra-io/plugin-aws@ff8dd7f745b8082b9c0b8553cdc648f4a2060327, cli/AwsCLI.java and
// AbstractConnection.java: DEFAULT_IMAGE, getEnv() (the table below), the `aws configure set`
// commands put before the task's, AWS_MIN_STS_ROLE_SESSION_DURATION (900 s).
const AWS_OUTPUT_FORMATS: &[&str] = &["JSON", "TEXT", "TABLE", "YAML"];
const AWS_CREDENTIAL_SOURCES: &[&str] = &["ENVIRONMENT", "EC2_INSTANCE_METADATA", "ECS_CONTAINER"];

const AWS_OWN: &[Property] = &[
    CLI_COMMANDS,
    Property {
        example: Some("TEXT"),
        ..with_default(
            "outputFormat",
            Ty::Enum(AWS_OUTPUT_FORMATS),
            "\"JSON\"",
            "The aws CLI's output format: `AWS_DEFAULT_OUTPUT` (lowercase).",
        )
    },
    Property {
        example: Some("\"{{ secret('AWS_ACCESS_KEY_ID') }}\""),
        ..read(
            "accessKeyId",
            Ty::Text,
            "`AWS_ACCESS_KEY_ID` in the container's environment.",
        )
    },
    Property {
        example: Some("\"{{ secret('AWS_SECRET_KEY_ID') }}\""),
        ..read(
            "secretKeyId",
            Ty::Text,
            "`AWS_SECRET_ACCESS_KEY` in the container's environment (a `secret()` value is kept out of the engine's records).",
        )
    },
    Property {
        example: Some("\"{{ secret('AWS_SESSION_TOKEN') }}\""),
        ..read(
            "sessionToken",
            Ty::Text,
            "`AWS_SESSION_TOKEN` in the container's environment.",
        )
    },
    Property {
        example: Some("eu-central-1"),
        ..read(
            "region",
            Ty::Text,
            "`AWS_DEFAULT_REGION` in the container's environment.",
        )
    },
    Property {
        example: Some("http://127.0.0.1:4566"),
        ..read(
            "endpointOverride",
            Ty::Text,
            "`AWS_ENDPOINT_URL` in the container's environment.",
        )
    },
    Property {
        example: Some("arn:aws:iam::123456789012:role/r"),
        ..read(
            "stsRoleArn",
            Ty::Text,
            "Run first: `aws configure set role_arn VALUE`.",
        )
    },
    Property {
        example: Some("x"),
        ..read(
            "stsRoleExternalId",
            Ty::Text,
            "Run first: `aws configure set external_id VALUE`.",
        )
    },
    Property {
        example: Some("s"),
        ..read(
            "stsRoleSessionName",
            Ty::Text,
            "Run first: `aws configure set role_session_name VALUE`.",
        )
    },
    Property {
        example: Some("PT20M"),
        ..with_default(
            "stsRoleSessionDuration",
            Ty::Duration,
            "\"PT15M\"",
            "Run first, always (as Kestra does): `aws configure set duration_seconds SECONDS`.",
        )
    },
    Property {
        example: Some("ENVIRONMENT"),
        ..read(
            "stsCredentialSource",
            Ty::Enum(AWS_CREDENTIAL_SOURCES),
            "Run first: `aws configure set credential_source Environment|Ec2InstanceMetadata|EcsContainer`.",
        )
    },
    ex(
        "false",
        ignored("compatibilityMode", "the aws CLI task does not use it"),
    ),
    ex(
        "false",
        ignored("forcePathStyle", "the aws CLI task does not use it"),
    ),
    ex(
        "http://127.0.0.1:4566",
        ignored("stsEndpointOverride", "the aws CLI task does not use it"),
    ),
];

// kestra-io/plugin-gcp@f04e61964558d53f92c86b6da1c98c6ce00b4f8e, cli/GCloudCLI.java:
// DEFAULT_IMAGE, getEnv(): the service account key written to a file in the working directory,
// GOOGLE_APPLICATION_CREDENTIALS and CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE naming it,
// CLOUDSDK_CORE_PROJECT.
const GCP_OWN: &[Property] = &[
    CLI_COMMANDS,
    Property {
        example: Some("\"{{ secret('GCP_SERVICE_ACCOUNT_JSON') }}\""),
        ..read(
            "serviceAccount",
            Ty::Text,
            "A service account key (JSON), written to `.gcloud-service-account.json` in the working directory, which `GOOGLE_APPLICATION_CREDENTIALS` and `CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE` name.",
        )
    },
    Property {
        example: Some("my-project"),
        ..read(
            "projectId",
            Ty::Text,
            "`CLOUDSDK_CORE_PROJECT` in the container's environment.",
        )
    },
];

/// Where GCloudCLI's `serviceAccount` is written (Kestra: a temporary file of the working
/// directory; a fixed name keeps plans stable).
pub const GCP_KEY_FILE: &str = ".gcloud-service-account.json";

// kestra-io/plugin-azure@85e2aa530331f6528effa80be0a264d2400775ee, cli/AzCLI.java:
// DEFAULT_IMAGE, getLoginCommands() run as beforeCommands.
const AZURE_OWN: &[Property] = &[
    CLI_COMMANDS,
    Property {
        example: Some("app-id"),
        ..read(
            "username",
            Ty::Text,
            "With it, `az login -u USERNAME [-p PASSWORD] [--tenant TENANT] [--service-principal]` runs first.",
        )
    },
    Property {
        example: Some("\"{{ secret('AZURE_PASSWORD') }}\""),
        ..read(
            "password",
            Ty::Text,
            "The password of `az login` (a `secret()` value moves the script into a private file in the container, off the engine's records).",
        )
    },
    Property {
        example: Some("t"),
        ..read("tenant", Ty::Text, "The tenant of `az login`: `--tenant`.")
    },
    Property {
        example: Some("true"),
        ..with_default(
            "servicePrincipal",
            Ty::Bool,
            "false",
            "When true, `az login` logs in as a service principal: `--service-principal`.",
        )
    },
];

// kestra-io/plugin-ansible@2dd19baa1b4bde369463c39d159c0dbb6d948c21, cli/AnsibleCLI.java:
// DEFAULT_IMAGE, interpreter `/bin/bash -c`, the auto-install commands after beforeCommands.
const ANSIBLE_OWN: &[Property] = &[
    CLI_COMMANDS,
    Property {
        example: Some("\"[defaults]\\nhost_key_checking = False\\n\""),
        ..read(
            "ansibleConfig",
            Ty::Text,
            "The content of `ansible.cfg`, written to the working directory. Without it, no `ansible.cfg` is written (Kestra's default one enables its own log callback) and ansible prints its usual output.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "autoInstallPythonRequirements",
            Ty::Bool,
            "true",
            "When true, `[ ! -f requirements.txt ] || pip install --no-cache-dir -r requirements.txt` runs after beforeCommands.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "autoInstallGalaxyRequirements",
            Ty::Bool,
            "true",
            "When true, `[ ! -f requirements.yml ] || ansible-galaxy install -r requirements.yml` runs after beforeCommands.",
        )
    },
    ex(
        "ALL",
        ignored(
            "outputsMode",
            "playbook results are not captured as outputs (Kestra's callback plugin is not installed)",
        ),
    ),
    ex(
        "false",
        ignored(
            "outputLogFile",
            "there is no ansible log file without Kestra's ansible.cfg; set `log_path` in `ansibleConfig` and list it in `outputFiles`",
        ),
    ),
];

pub const DBT_CLI_TYPE: &str = "io.kestra.plugin.dbt.cli.DbtCLI";
pub const TERRAFORM_CLI_TYPE: &str = "io.kestra.plugin.terraform.cli.TerraformCLI";
pub const AWS_CLI_TYPE: &str = "io.kestra.plugin.aws.cli.AwsCLI";
pub const GCLOUD_CLI_TYPE: &str = "io.kestra.plugin.gcp.cli.GCloudCLI";
pub const AZ_CLI_TYPE: &str = "io.kestra.plugin.azure.cli.AzCLI";
pub const ANSIBLE_CLI_TYPE: &str = "io.kestra.plugin.ansible.cli.AnsibleCLI";

/// A CLI task type's object: the common properties, its image, the script properties its
/// plugin has, then its own.
macro_rules! cli_object {
    ($title:literal, $doc:literal, $($props:expr),+) => {
        Object {
            kind: "task",
            title: $title,
            doc: $doc,
            properties: &[COMMON_TASK, $($props),+],
        }
    };
}

// kestra-io/plugin-docker@09969269a1bd199fcf3cc86194e945f0dbafd067, cli/Run.java (alias
// io.kestra.plugin.docker.Run) and AbstractDocker.java: the Docker task runner built from the
// task's own options, `commands` (default empty) as the container's argv, no interpreter.
pub const DOCKER_RUN_TYPE: &str = "io.kestra.plugin.docker.cli.Run";

/// Whether two names are equal, in a const context.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The properties of `object` called `names`, copied (the docker Run task has the runner's
/// options as its own: one description of each).
const fn pick<const N: usize>(object: &Object, names: [&'static str; N]) -> [Property; N] {
    let mut out = [const { read("", Ty::Text, "") }; N];
    let mut k = 0;
    while k < N {
        let mut found = false;
        let mut i = 0;
        while i < object.properties.len() {
            let list = object.properties[i];
            let mut j = 0;
            while j < list.len() {
                let p = &list[j];
                if same(p.name, names[k]) {
                    out[k] = Property {
                        name: p.name,
                        ty: p.ty,
                        default: p.default,
                        required: p.required,
                        doc: p.doc,
                        support: p.support,
                        example: p.example,
                        rows: &[],
                    };
                    found = true;
                }
                j += 1;
            }
            i += 1;
        }
        assert!(found, "a runner property docker Run names is not in RUNNER");
        k += 1;
    }
    out
}

static DOCKER_RUN_RUNNER: [Property; 16] = pick(
    &RUNNER,
    [
        "host",
        "config",
        "credentials",
        "user",
        "entryPoint",
        "extraHosts",
        "networkMode",
        "portBindings",
        "volumes",
        "pullPolicy",
        "deviceRequests",
        "cpu",
        "memory",
        "shmSize",
        "privileged",
        "wait",
    ],
);

/// Whether a task of `task_type` runs without a required body: docker Run's `commands` may be
/// left out (the image's command... is cleared by the default entrypoint, as in Kestra), git
/// Clone's are made from its properties.
#[cfg(test)]
pub(super) fn makes_its_body(task_type: &str) -> bool {
    task_type == DOCKER_RUN_TYPE || task_type == GIT_CLONE_TYPE
}

/// Whether the runner's options of `task_type` are the task's own properties (docker Run).
pub fn runner_at_top(task_type: &str) -> bool {
    task_type == DOCKER_RUN_TYPE
}

const DOCKER_RUN_OWN: &[Property] = &[
    Property {
        example: Some("dockhand-test/busybox"),
        ..required(
            "containerImage",
            Ty::Image,
            "The image to run (with `credentials.registry`, Kestra puts that registry in front of a name without it: give the full name instead).",
        )
    },
    Property {
        example: Some("[echo, hello]"),
        ..with_default(
            "commands",
            Ty::Strings,
            "[]",
            "The container's command, one argument per item (no shell): `[echo, hello]`. May use `{{ ... }}` expressions.",
        )
    },
    ENV,
    INPUT_FILES,
    OUTPUT_FILES,
];

// kestra-io/plugin-git@31ef79c1189aae7be07d2929910c1d4d1710277c, Clone.java,
// AbstractCloningTask.java, AbstractGitTask.java: the properties and their defaults (depth 1,
// cloneAllBranches true, noTags false), the clone into `directory` (the working directory by
// default), init + fetch when it is not empty, the `directory` output. Kestra clones with JGit
// in its own process; dockhand runs the `git` command in a container (GIT_IMAGE).
pub const GIT_CLONE_TYPE: &str = "io.kestra.plugin.git.Clone";
/// The image git Clone runs `git` in: Kestra has none (JGit runs in its JVM); any image with
/// `git` and a POSIX shell does.
pub const GIT_IMAGE: &str = "alpine/git:latest";

const GIT_CLONE_OWN: &[Property] = &[
    Property {
        example: Some("https://github.com/kestra-io/examples"),
        ..required(
            "url",
            Ty::Text,
            "The repository to clone (`https://…`, `git://…`, `file://…` or a path the container sees).",
        )
    },
    Property {
        example: Some("repo"),
        ..read(
            "directory",
            Ty::Text,
            "Where the repository goes, relative to the working directory; default: the working directory itself. When it is not empty, `git init` + `git fetch` + `git checkout` stand in for the clone, as Kestra does.",
        )
    },
    Property {
        example: Some("main"),
        ..read("branch", Ty::Text, "The branch to check out: `--branch`.")
    },
    Property {
        example: Some("1"),
        ..with_default(
            "depth",
            Ty::Int {
                min: Some(1),
                max: None,
            },
            "1",
            "How much history to fetch: `--depth` (not with `commit` or `tag`).",
        )
    },
    Property {
        example: Some("abc1234"),
        ..read(
            "commit",
            Ty::Text,
            "A commit to check out after a full clone (detached HEAD); overrides `branch`.",
        )
    },
    Property {
        example: Some("v1.0"),
        ..read(
            "tag",
            Ty::Text,
            "A tag to check out after a full clone (not with `commit`).",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "cloneAllBranches",
            Ty::Bool,
            "true",
            "When false (with `branch`), only that branch is fetched: `--single-branch`.",
        )
    },
    Property {
        example: Some("false"),
        ..with_default(
            "noTags",
            Ty::Bool,
            "false",
            "When true, no tags are fetched: `--no-tags`.",
        )
    },
    Property {
        example: Some("false"),
        ..with_default(
            "cloneSubmodules",
            Ty::Bool,
            "false",
            "When true, submodules are cloned too: `--recurse-submodules`.",
        )
    },
    Property {
        example: Some("git"),
        ..read(
            "username",
            Ty::Text,
            "The user name for HTTP(S): given to git by a credential helper from the environment (`GIT_USERNAME`), never on a command line.",
        )
    },
    Property {
        example: Some("\"{{ secret('GITHUB_TOKEN') }}\""),
        ..read(
            "password",
            Ty::Text,
            "The password or token for HTTP(S), as `GIT_PASSWORD` for the credential helper (a `secret()` value is kept out of the engine's records).",
        )
    },
    refused(
        "privateKey",
        "SSH keys are not supported yet; clone over HTTPS with `username` and `password`",
    ),
    refused(
        "passphrase",
        "SSH keys are not supported yet; clone over HTTPS with `username` and `password`",
    ),
    refused("gitConfig", "git configuration values are not applied yet"),
    ex(
        "/etc/ssl/ca.pem",
        ignored(
            "trustedCaPemPath",
            "it is a path on Kestra's host; put the CA in the image instead",
        ),
    ),
    ex(
        "false",
        ignored("noProxy", "dockhand sets no proxy for git"),
    ),
    ex(
        "10000",
        ignored("connectTimeout", "git's own timeouts apply"),
    ),
    ex("60000", ignored("readTimeout", "git's own timeouts apply")),
    ex(
        "http://localhost:8080",
        ignored("kestraUrl", "there is no Kestra server"),
    ),
];

// kestra-io/plugin-docker@09969269a1bd199fcf3cc86194e945f0dbafd067, cli/Build.java (alias
// io.kestra.plugin.docker.Build): dockerfile as a file of the working directory or inline,
// tags, buildArgs, labels, platforms, target, pull (default true), push (default false); and
// cli/Push.java (alias io.kestra.plugin.docker.Push): tags. Both take AbstractDocker's host,
// config, credentials. Kestra drives the Engine API; dockhand runs `docker build`/`push` (or
// podman's) on the host.
pub const DOCKER_BUILD_TYPE: &str = "io.kestra.plugin.docker.cli.Build";
pub const DOCKER_PUSH_TYPE: &str = "io.kestra.plugin.docker.cli.Push";
/// docker Build's `pull` property (a name, not an engine command).
pub const DOCKER_BUILD_PULL: &str = "pull";

/// Whether `task_type` is docker Build or Push (`decode::image_task` reads them).
pub fn is_image_task(task_type: &str) -> bool {
    let name = super::canonical_task_type(task_type);
    name == DOCKER_BUILD_TYPE || name == DOCKER_PUSH_TYPE
}

static DOCKER_ENGINE: [Property; 3] = pick(&RUNNER, ["host", "config", "credentials"]);

const IMAGE_TAGS: Property = Property {
    example: Some("[dockhand-test/built:kitchen]"),
    ..required(
        "tags",
        Ty::NonEmptyStrings,
        "The image's names (`REPOSITORY[:TAG]`; a `scheme://` prefix is dropped, as Kestra does): `--tag` each.",
    )
};

const DOCKER_BUILD_OWN: &[Property] = &[
    Property {
        example: Some("\"FROM dockhand-test/busybox\\nRUN echo built > /built\\n\""),
        ..required(
            "dockerfile",
            Ty::NonBlank,
            "The Dockerfile: the name of a file of the working directory (an input file), or else its text, written to `Dockerfile.dockhand` there. The working directory is the build context.",
        )
    },
    IMAGE_TAGS,
    Property {
        example: Some("{VERSION: \"1.0\"}"),
        ..read(
            "buildArgs",
            Ty::NamedMap(super::Names::Env),
            "Build arguments: `--build-arg NAME`, the value passed in the client's environment, not on the command line.",
        )
    },
    Property {
        example: Some("{org.opencontainers.image.title: demo}"),
        ..read("labels", Ty::StringMap, "Image labels: `--label K=V`.")
    },
    Property {
        example: Some("[linux/amd64]"),
        ..read(
            "platforms",
            Ty::Strings,
            "The platform to build for: `--platform` (one; several need a multi-platform builder, which `docker build` is not).",
        )
    },
    Property {
        example: Some("build"),
        ..read("target", Ty::Text, "The stage to build: `--target`.")
    },
    Property {
        example: Some("false"),
        ..with_default(
            DOCKER_BUILD_PULL,
            Ty::Bool,
            "true",
            "When true, newer base images are pulled: docker `--pull`, podman `--pull=always`; false builds from local base images without asking a registry.",
        )
    },
    Property {
        example: Some("false"),
        ..with_default(
            "push",
            Ty::Bool,
            "false",
            "When true, every tag is pushed after the build (`push`, with `credentials` in a private client config).",
        )
    },
    INPUT_FILES,
    Property {
        doc: "Namespace files put in the build context (the working directory) before `inputFiles`, which win on a name they share, as Kestra's Build does.",
        ..super::NAMESPACE_FILES_PROPERTY
    },
];

pub static TASK_TYPES: &[TaskType] = &[
    TaskType {
        name: DOCKER_BUILD_TYPE,
        aliases: &["io.kestra.plugin.docker.Build"],
        execution: Execution::HostProcess,
        object: Object {
            kind: "task",
            title: "docker build",
            doc: "Builds an image from a Dockerfile with the engine CLI (`docker build` / `podman build`), the working directory as its context; pushes its tags with `push`.",
            properties: &[COMMON_TASK, DOCKER_BUILD_OWN, &DOCKER_ENGINE],
        },
    },
    TaskType {
        name: DOCKER_PUSH_TYPE,
        aliases: &["io.kestra.plugin.docker.Push"],
        execution: Execution::HostProcess,
        object: Object {
            kind: "task",
            title: "docker push",
            doc: "Pushes images with the engine CLI (`docker push` / `podman push`).",
            properties: &[COMMON_TASK, &[IMAGE_TAGS], &DOCKER_ENGINE],
        },
    },
    TaskType {
        name: DOCKER_RUN_TYPE,
        aliases: &["io.kestra.plugin.docker.Run"],
        execution: Execution::ContainerScript {
            body: ScriptBody::Commands,
            default_image: "",
            interpreter: &[],
            fail_fast: SET_E,
            env: &[],
            file: None,
        },
        object: Object {
            kind: "task",
            title: "A container run with its argv",
            doc: "Runs a container with `commands` as its argv, the runner's options as the task's own properties.",
            properties: &[COMMON_TASK, DOCKER_RUN_OWN, &DOCKER_RUN_RUNNER],
        },
    },
    TaskType {
        name: GIT_CLONE_TYPE,
        aliases: &[],
        execution: cli(GIT_IMAGE, SH, &[]),
        object: Object {
            kind: "task",
            title: "git clone",
            doc: "Clones a git repository into the working directory, with `git` in a container.",
            properties: &[COMMON_TASK, GIT_CLONE_OWN],
        },
    },
    TaskType {
        name: DBT_CLI_TYPE,
        aliases: &[],
        execution: cli(
            DBT_IMAGE,
            SH,
            &[
                ("PYTHONUNBUFFERED", "true"),
                ("PIP_ROOT_USER_ACTION", "ignore"),
            ],
        ),
        object: cli_object!(
            "dbt commands in a container",
            "Runs dbt commands in a container (`ghcr.io/kestra-io/dbt` by default), with `profiles.yml` from `profiles`.",
            &[
                cli_image!("ghcr.io/kestra-io/dbt"),
                Property {
                    example: Some("[/bin/bash, -c]"),
                    ..with_default(
                        "interpreter",
                        Ty::Strings,
                        SH_TEXT,
                        "The program and arguments the commands are given to, as its last argument.",
                    )
                },
            ],
            SCRIPT,
            DBT_OWN
        ),
    },
    TaskType {
        name: TERRAFORM_CLI_TYPE,
        aliases: &[],
        execution: cli("hashicorp/terraform", SH, &[]),
        object: cli_object!(
            "Terraform commands in a container",
            "Runs terraform commands with `/bin/sh -c` in a container (`hashicorp/terraform` by default).",
            &[cli_image!("hashicorp/terraform")],
            SCRIPT,
            TERRAFORM_OWN
        ),
    },
    TaskType {
        name: AWS_CLI_TYPE,
        aliases: &[],
        execution: cli("amazon/aws-cli", SH, &[]),
        object: cli_object!(
            "AWS CLI commands in a container",
            "Runs aws commands with `/bin/sh -c` in a container (`amazon/aws-cli` by default), with the credentials and region as `AWS_*` environment variables.",
            &[
                cli_image!("amazon/aws-cli"),
                ENV,
                INPUT_FILES,
                OUTPUT_FILES,
                TASK_RUNNER,
                LEGACY_RUNNER,
                LEGACY_DOCKER,
            ],
            AWS_OWN
        ),
    },
    TaskType {
        name: GCLOUD_CLI_TYPE,
        aliases: &[],
        execution: cli("google/cloud-sdk", SH, &[]),
        object: cli_object!(
            "gcloud commands in a container",
            "Runs gcloud commands with `/bin/sh -c` in a container (`google/cloud-sdk` by default), with the service account key in a file of the working directory.",
            &[
                cli_image!("google/cloud-sdk"),
                ENV,
                INPUT_FILES,
                OUTPUT_FILES,
                TASK_RUNNER,
                LEGACY_RUNNER,
                LEGACY_DOCKER,
            ],
            GCP_OWN
        ),
    },
    TaskType {
        name: AZ_CLI_TYPE,
        aliases: &[],
        execution: cli("mcr.microsoft.com/azure-cli", SH, &[]),
        object: cli_object!(
            "Azure CLI commands in a container",
            "Runs az commands with `/bin/sh -c` in a container (`mcr.microsoft.com/azure-cli` by default), after `az login` when `username` is given.",
            &[
                cli_image!("mcr.microsoft.com/azure-cli"),
                ENV,
                INPUT_FILES,
                OUTPUT_FILES,
                TASK_RUNNER,
                LEGACY_RUNNER,
                LEGACY_DOCKER,
            ],
            AZURE_OWN
        ),
    },
    TaskType {
        name: ANSIBLE_CLI_TYPE,
        aliases: &[],
        execution: cli("cytopia/ansible:latest-tools", BASH, &[]),
        object: cli_object!(
            "Ansible commands in a container",
            "Runs ansible commands with `/bin/bash -c` in a container (`cytopia/ansible:latest-tools` by default).",
            &[
                cli_image!("cytopia/ansible:latest-tools"),
                BEFORE_COMMANDS,
                ENV,
                INPUT_FILES,
                OUTPUT_FILES,
                TASK_RUNNER,
                LEGACY_RUNNER,
                LEGACY_DOCKER,
            ],
            ANSIBLE_OWN
        ),
    },
];

// ------------------------------------------------------------------------------ CLI adapters

/// What a CLI task's own properties add to the container script it runs.
#[derive(Debug, Default, PartialEq)]
pub struct CliScript {
    /// The image when the task gives no `containerImage` (dbt's `engine`), if not the type's.
    pub default_image: Option<&'static str>,
    /// Environment variables, set unless the task's `env` sets them.
    pub env: Vec<(&'static str, String)>,
    /// Files written into the working directory (over an input file of the same name).
    pub files: Vec<(&'static str, String)>,
    /// Commands run after the task's `beforeCommands`.
    pub before_commands: Vec<String>,
    /// The task's commands, as the plugin runs them (dbt adds its options).
    pub commands: Vec<String>,
}

/// What a CLI task type does with its own properties: the data tables, then `adapt` for what
/// is more than a copy.
pub struct CliAdapter {
    pub task_type: &'static str,
    /// Property → environment variable, the value as given.
    pub env: &'static [(&'static str, &'static str)],
    /// Property → file of the working directory, the value as its content.
    pub files: &'static [(&'static str, &'static str)],
    /// The rest, from the property values (text; booleans `true`/`false`, enumerations as
    /// written, durations in seconds).
    pub adapt: fn(&BTreeMap<&'static str, String>, &mut CliScript),
}

pub static CLI_ADAPTERS: &[CliAdapter] = &[
    CliAdapter {
        task_type: DBT_CLI_TYPE,
        env: &[],
        files: &[("profiles", "profiles.yml")],
        adapt: dbt,
    },
    CliAdapter {
        task_type: AWS_CLI_TYPE,
        env: &[
            ("accessKeyId", "AWS_ACCESS_KEY_ID"),
            ("secretKeyId", "AWS_SECRET_ACCESS_KEY"),
            ("region", "AWS_DEFAULT_REGION"),
            ("sessionToken", "AWS_SESSION_TOKEN"),
            ("endpointOverride", "AWS_ENDPOINT_URL"),
        ],
        files: &[],
        adapt: aws,
    },
    CliAdapter {
        task_type: GCLOUD_CLI_TYPE,
        env: &[("projectId", "CLOUDSDK_CORE_PROJECT")],
        files: &[("serviceAccount", GCP_KEY_FILE)],
        adapt: gcloud,
    },
    CliAdapter {
        task_type: AZ_CLI_TYPE,
        env: &[],
        files: &[],
        adapt: azure,
    },
    CliAdapter {
        task_type: ANSIBLE_CLI_TYPE,
        env: &[],
        files: &[("ansibleConfig", "ansible.cfg")],
        adapt: ansible,
    },
    CliAdapter {
        task_type: GIT_CLONE_TYPE,
        env: &[("username", "GIT_USERNAME"), ("password", "GIT_PASSWORD")],
        files: &[],
        adapt: git_clone,
    },
];

/// Applies the adapter of `task_type` (if it has one) to `values`; `script.commands` holds the
/// task's commands.
pub fn adapt_cli(task_type: &str, values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    let Some(a) = CLI_ADAPTERS.iter().find(|a| a.task_type == task_type) else {
        return;
    };
    for (property, var) in a.env {
        if let Some(v) = values.get(property) {
            script.env.push((var, v.clone()));
        }
    }
    for (property, file) in a.files {
        if let Some(v) = values.get(property) {
            script.files.push((file, v.clone()));
        }
    }
    (a.adapt)(values, script);
}

fn is_true(values: &BTreeMap<&'static str, String>, name: &str, default: bool) -> bool {
    values.get(name).map_or(default, |v| v == "true")
}

/// DbtCLI.run(): each command starting with `dbt` gets `--project-dir` (with `projectDir`),
/// `--log-format` (unless NONE) and `--log-path logs`, each unless already there.
fn dbt(values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    if values.get("engine").is_some_and(|e| e == "FUSION") {
        script.default_image = Some(DBT_FUSION_IMAGE);
    }
    let format = values.get("logFormat").map_or("JSON", String::as_str);
    for c in &mut script.commands {
        if !c.starts_with("dbt") {
            continue;
        }
        if let Some(dir) = values.get("projectDir")
            && !c.contains("--project-dir")
        {
            c.push_str(&format!(" --project-dir {dir}"));
        }
        if format != "NONE" && !c.contains("--log-format") {
            c.push_str(&format!(" --log-format {}", format.to_lowercase()));
        }
        if !c.contains("--log-path") {
            c.push_str(" --log-path logs");
        }
    }
}

/// AwsCLI.run() and getEnv(): `aws configure set` first for the STS properties (the session
/// duration has a default, so that one always runs), and the output format.
fn aws(values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    let mut first = Vec::new();
    for (property, key) in [
        ("stsRoleArn", "role_arn"),
        ("stsRoleSessionName", "role_session_name"),
        ("stsRoleExternalId", "external_id"),
    ] {
        if let Some(v) = values.get(property) {
            first.push(format!("aws configure set {key} {v}"));
        }
    }
    let seconds = values
        .get("stsRoleSessionDuration")
        .map_or("900", String::as_str);
    first.push(format!("aws configure set duration_seconds {seconds}"));
    if let Some(source) = values.get("stsCredentialSource") {
        let value = match source.as_str() {
            "EC2_INSTANCE_METADATA" => "Ec2InstanceMetadata",
            "ECS_CONTAINER" => "EcsContainer",
            _ => "Environment",
        };
        first.push(format!("aws configure set credential_source {value}"));
    }
    script.commands.splice(0..0, first);
    let format = values.get("outputFormat").map_or("JSON", String::as_str);
    script
        .env
        .push(("AWS_DEFAULT_OUTPUT", format.to_lowercase()));
}

/// GCloudCLI.getEnv(): the key file's path, in the container, for both variables.
fn gcloud(values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    if values.contains_key("serviceAccount") {
        let path = format!("{{{{ workingDir }}}}/{GCP_KEY_FILE}");
        script
            .env
            .push(("GOOGLE_APPLICATION_CREDENTIALS", path.clone()));
        script
            .env
            .push(("CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", path));
    }
}

/// AzCLI.getLoginCommands(), word for word.
fn azure(values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    let Some(user) = values.get("username") else {
        return;
    };
    let mut login = format!("az login -u {user}");
    if let Some(p) = values.get("password") {
        login.push_str(&format!(" -p {p}"));
    }
    if let Some(t) = values.get("tenant") {
        login.push_str(&format!(" --tenant {t}"));
    }
    if is_true(values, "servicePrincipal", false) {
        login.push_str(" --service-principal");
    }
    script.before_commands.push(login);
}

/// AnsibleCLI.run(): the requirement installs, after the task's beforeCommands.
fn ansible(values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    if is_true(values, "autoInstallPythonRequirements", true) {
        script.before_commands.push(
            "[ ! -f requirements.txt ] || pip install --no-cache-dir -r requirements.txt".into(),
        );
    }
    if is_true(values, "autoInstallGalaxyRequirements", true) {
        script
            .before_commands
            .push("[ ! -f requirements.yml ] || ansible-galaxy install -r requirements.yml".into());
    }
}

/// A word for a POSIX shell, single-quoted.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Git Clone's script: `git clone` with the plugin's options (or init + fetch + checkout into
/// a directory that is not empty), a checkout of `commit` or `tag`, and the `directory`
/// output. Credentials come from the environment through a credential helper.
fn git_clone(values: &BTreeMap<&'static str, String>, script: &mut CliScript) {
    let url = values.get("url").map_or("", String::as_str);
    let dir = values.get("directory").map_or(".", String::as_str);
    let (commit, tag) = (values.get("commit"), values.get("tag"));
    let full = commit.is_some() || tag.is_some();
    let mut git = String::from("git");
    if values.contains_key("username") || values.contains_key("password") {
        git.push_str(" -c credential.helper= -c 'credential.helper=!f() { echo \"username=${GIT_USERNAME:-git}\"; echo \"password=${GIT_PASSWORD:-}\"; }; f'");
    }
    let mut clone = format!("{git} clone --quiet");
    let mut fetch = format!("{git} -C {} fetch --quiet", quote(dir));
    let branch = values.get("branch").filter(|_| !full);
    if let Some(b) = branch {
        clone.push_str(&format!(" --branch {}", quote(b)));
    }
    if !full {
        let depth = values.get("depth").map_or("1", String::as_str);
        clone.push_str(&format!(" --depth {depth}"));
        fetch.push_str(&format!(" --depth {depth}"));
    }
    if !is_true(values, "cloneAllBranches", true) && branch.is_some() {
        clone.push_str(" --single-branch");
    }
    if is_true(values, "noTags", false) {
        clone.push_str(" --no-tags");
        fetch.push_str(" --no-tags");
    } else if full {
        fetch.push_str(" --tags");
    }
    if is_true(values, "cloneSubmodules", false) {
        clone.push_str(" --recurse-submodules");
    }
    clone.push_str(&format!(" -- {} {}", quote(url), quote(dir)));
    fetch.push_str(&format!(" {}", quote(url)));
    if let Some(b) = branch {
        fetch.push_str(&format!(" {}", quote(b)));
    }
    let mut lines = vec![
        format!("mkdir -p {}", quote(dir)),
        format!("if [ -z \"$(ls -A {})\" ]; then", quote(dir)),
        format!("  {clone}"),
        "else".to_string(),
        format!("  git -C {} init --quiet", quote(dir)),
        format!("  {fetch}"),
        format!("  git -C {} checkout --quiet FETCH_HEAD", quote(dir)),
        "fi".to_string(),
    ];
    if let Some(rev) = commit.or(tag) {
        lines.push(format!(
            "git -C {} checkout --quiet {}",
            quote(dir),
            quote(rev)
        ));
    }
    lines.push(format!(
        "printf '::{{\"outputs\":{{\"directory\":\"%s\"}}}}::\\n' \"$(cd {} && pwd)\"",
        quote(dir)
    ));
    script.commands = lines;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(task_type: &str, values: &[(&'static str, &str)], commands: &[&str]) -> CliScript {
        let values = values.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let mut s = CliScript {
            commands: commands.iter().map(|c| c.to_string()).collect(),
            ..CliScript::default()
        };
        adapt_cli(task_type, &values, &mut s);
        s
    }

    /// dbt's commands as DbtCLI rewrites them: only those starting with `dbt`, each option
    /// unless the command has it.
    #[test]
    fn dbt_commands() {
        for (values, command, want) in [
            (
                &[][..],
                "dbt build",
                "dbt build --log-format json --log-path logs",
            ),
            (&[][..], "echo dbt", "echo dbt"),
            (
                &[("projectDir", "dbt"), ("logFormat", "NONE")][..],
                "dbt deps",
                "dbt deps --project-dir dbt --log-path logs",
            ),
            (
                &[("projectDir", "dbt"), ("logFormat", "TEXT")][..],
                "dbt run --project-dir x --log-path y",
                "dbt run --project-dir x --log-path y --log-format text",
            ),
        ] {
            assert_eq!(run(DBT_CLI_TYPE, values, &[command]).commands, [want]);
        }
        assert_eq!(
            run(DBT_CLI_TYPE, &[("engine", "FUSION")], &["dbt run"]).default_image,
            Some(DBT_FUSION_IMAGE)
        );
        assert_eq!(
            run(DBT_CLI_TYPE, &[("profiles", "p: 1")], &["dbt run"]).files,
            [("profiles.yml", "p: 1".to_string())]
        );
    }

    #[test]
    fn aws_env_and_first_commands() {
        let s = run(
            AWS_CLI_TYPE,
            &[
                ("accessKeyId", "AK"),
                ("secretKeyId", "SK"),
                ("region", "eu-west-1"),
                ("stsRoleArn", "arn:r"),
                ("stsCredentialSource", "ECS_CONTAINER"),
                ("outputFormat", "TABLE"),
            ],
            &["aws s3 ls"],
        );
        assert_eq!(
            s.env,
            [
                ("AWS_ACCESS_KEY_ID", "AK".to_string()),
                ("AWS_SECRET_ACCESS_KEY", "SK".to_string()),
                ("AWS_DEFAULT_REGION", "eu-west-1".to_string()),
                ("AWS_DEFAULT_OUTPUT", "table".to_string()),
            ]
        );
        assert_eq!(
            s.commands,
            [
                "aws configure set role_arn arn:r",
                "aws configure set duration_seconds 900",
                "aws configure set credential_source EcsContainer",
                "aws s3 ls",
            ]
        );
        assert_eq!(
            run(AWS_CLI_TYPE, &[], &["aws s3 ls"]).env,
            [("AWS_DEFAULT_OUTPUT", "json".to_string())]
        );
    }

    #[test]
    fn gcloud_azure_ansible() {
        let s = run(
            GCLOUD_CLI_TYPE,
            &[("serviceAccount", "{}"), ("projectId", "p")],
            &["gcloud info"],
        );
        assert_eq!(s.files, [(GCP_KEY_FILE, "{}".to_string())]);
        assert_eq!(
            s.env[1],
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "{{ workingDir }}/.gcloud-service-account.json".to_string()
            )
        );
        assert!(
            run(AZ_CLI_TYPE, &[("password", "p")], &["az"])
                .before_commands
                .is_empty()
        );
        assert_eq!(
            run(
                AZ_CLI_TYPE,
                &[
                    ("username", "u"),
                    ("password", "p"),
                    ("tenant", "t"),
                    ("servicePrincipal", "true")
                ],
                &["az"]
            )
            .before_commands,
            ["az login -u u -p p --tenant t --service-principal"]
        );
        assert_eq!(run(ANSIBLE_CLI_TYPE, &[], &["x"]).before_commands.len(), 2);
        assert!(
            run(
                ANSIBLE_CLI_TYPE,
                &[
                    ("autoInstallPythonRequirements", "false"),
                    ("autoInstallGalaxyRequirements", "false")
                ],
                &["x"]
            )
            .before_commands
            .is_empty()
        );
    }

    /// Every adapter's table names properties its type describes as read.
    #[test]
    fn adapters_name_described_properties() {
        for a in CLI_ADAPTERS {
            let t = super::super::task_type(a.task_type).expect(a.task_type);
            for (p, _) in a.env.iter().chain(a.files) {
                assert!(
                    t.object
                        .properties()
                        .any(|q| q.name == *p && q.support == super::super::Support::Read),
                    "{}: {p}",
                    a.task_type
                );
            }
        }
    }
}
