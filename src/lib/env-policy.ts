/**
 * Which environment variables a caller may give a run. A job's environment
 * (a trigger body's keys, the `env` of a launch on any face) is data for the
 * script; a variable that the shell, an interpreter, the dynamic loader or a
 * tool the script runs reads as an instruction would let whoever sends that
 * data run code on the machine, as the agent's user (often root), before the
 * script's first line: `BASH_ENV=$(id > /tmp/x)` is enough with bash.
 *
 * This is the one list, shared by the server (which refuses such a launch
 * with a 400 naming the variable) and the agent (which must never pass one
 * to a script). Names match as POSIX spells them, case-sensitively, except
 * where the program that reads a variable ignores case itself. Each entry
 * says why it is here; the test beside this file runs the entries that a
 * shell installed here honours, to show each one is refused.
 */

export interface EnvRule {
  /** The name, or the start or end of the names, this rule covers. */
  readonly name: string;
  readonly match: 'exact' | 'prefix' | 'suffix';
  /** True when the program that reads it ignores case (npm, Python's urllib). */
  readonly ignoreCase?: boolean;
  /** What the variable would do if a caller could set it. */
  readonly reason: string;
}

const exact = (names: string[], reason: string): EnvRule[] => names.map((name) => ({ name, match: 'exact', reason }));
const prefix = (name: string, reason: string, ignoreCase = false): EnvRule => ({ name, match: 'prefix', reason, ...(ignoreCase ? { ignoreCase } : {}) });

/** Where commands, functions and startup files come from, for bash, sh (dash), zsh and ksh. */
const SHELL_RULES: EnvRule[] = [
  ...exact(['PATH'], 'it decides which program every command name in the script runs'),
  ...exact(['path'], 'zsh imports it as its command search path (tied to PATH)'),
  ...exact(['BASH_ENV'], 'bash sources the file it names before it runs any non-interactive script'),
  ...exact(['ENV'], 'sh (dash), ksh, zsh in sh emulation and bash in POSIX mode source the file it names when they start interactively'),
  prefix('BASH_FUNC_', 'bash imports BASH_FUNC_<name>%% as a function, which replaces the command of that name in the script'),
  ...exact(['SHELLOPTS'], 'bash turns on the options it lists at start: xtrace (with PS4) runs code, errexit and noglob change what the script does'),
  ...exact(['BASHOPTS'], 'bash turns on the shopt options it lists at start (extdebug, nullglob, …)'),
  ...exact(['POSIXLY_CORRECT'], 'bash switches to POSIX mode (and reads ENV); GNU tools change their behaviour'),
  ...exact(['BASH_COMPAT'], "bash behaves as an older version, changing the script's meaning"),
  ...exact(['BASH_LOADABLES_PATH'], 'bash loads builtins (shared objects) for `enable -f` from it'),
  ...exact(['BASH_XTRACEFD'], 'bash writes its trace to the file descriptor it names'),
  ...exact(['PS4', 'PROMPT4'], 'expanded before every traced command (`set -x`): a command substitution in it runs'),
  ...exact(
    ['PS0', 'PS1', 'PS2', 'PS3', 'PROMPT', 'prompt', 'PROMPT2', 'PROMPT3', 'RPROMPT', 'RPROMPT2', 'RPS1', 'RPS2', 'SPROMPT'],
    'a prompt string: expanded, command substitutions included, whenever the shell or an interactive shell the script starts prints a prompt',
  ),
  ...exact(['PROMPT_COMMAND'], 'bash runs it before every prompt'),
  ...exact(['IFS'], 'it changes how every unquoted expansion is split into words, in shells and programs that take it from the environment'),
  ...exact(['CDPATH', 'cdpath'], 'it changes which directory `cd dir` enters'),
  ...exact(['GLOBIGNORE'], 'bash leaves the files it matches out of every glob'),
  ...exact(['EXECIGNORE'], 'bash skips the executables it matches when it searches PATH'),
  ...exact(['ZDOTDIR'], 'zsh sources $ZDOTDIR/.zshenv at every start, interactive or not'),
  ...exact(
    ['HOME'],
    "zsh sources $HOME/.zshenv at every start; Python runs the .pth files of $HOME/.local's site-packages; git, pip, curl and ssh read their configuration from it (the agent sets it for run_as)",
  ),
  ...exact(['FPATH', 'fpath'], 'zsh and ksh autoload functions from the directories it lists'),
  ...exact(['module_path', 'MODULE_PATH'], 'zsh loads modules (shared objects) for zmodload from it'),
  ...exact(['NULLCMD', 'READNULLCMD'], 'zsh runs it for a redirection without a command (`> file`, `< file`)'),
  ...exact(['SHELL'], 'tools that start a shell (sudo -s, script, crontab -e, editors) run the program it names'),
];

/** The dynamic loader and the C library: these load code into every program the script starts. */
const LOADER_RULES: EnvRule[] = [
  prefix(
    'LD_',
    'the dynamic loader (glibc, musl) loads libraries into every program from LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT…, and LD_DEBUG_OUTPUT writes files',
  ),
  prefix('DYLD_', "macOS's dynamic loader loads libraries into every program from DYLD_INSERT_LIBRARIES, DYLD_LIBRARY_PATH…"),
  ...exact(['GCONV_PATH'], 'iconv loads character-set modules (shared objects) from it'),
  ...exact(['GLIBC_TUNABLES'], "it changes glibc's allocator and loader internals"),
  prefix('MALLOC_', "glibc's allocator settings; MALLOC_TRACE writes to the file it names"),
  ...exact(
    ['GETCONF_DIR', 'HOSTALIASES', 'LOCALDOMAIN', 'LOCPATH', 'NIS_PATH', 'NLSPATH', 'RESOLV_HOST_CONF', 'RES_OPTIONS', 'TMPDIR', 'TZDIR'],
    "glibc drops it for privileged programs (unsecvars.h): it points the C library at files or hosts of the caller's choosing",
  ),
  ...exact(['MUSL_LOCPATH'], 'musl loads locale files from it'),
];

/** Interpreters a script may be, or may start: each has variables that load code at start. */
const INTERPRETER_RULES: EnvRule[] = [
  prefix(
    'PYTHON',
    'CPython reads PYTHONPATH, PYTHONHOME, PYTHONSTARTUP, PYTHONUSERBASE, PYTHONWARNINGS (which imports modules) and more at start; the whole prefix, so that new releases are covered',
  ),
  prefix('PYENV_', "pyenv's python3 shims run the interpreter PYENV_ROOT and PYENV_VERSION point to"),
  prefix('NODE_', 'Node.js reads NODE_OPTIONS (--require, --import), NODE_PATH, NODE_EXTRA_CA_CERTS, NODE_TLS_REJECT_UNAUTHORIZED…'),
  prefix('npm_config_', "npm's and npx's configuration (registry, script-shell, node-options), whatever the case", true),
  prefix('PERL', 'Perl reads PERL5OPT (-M loads a module), PERL5LIB, PERLLIB, PERL5DB; many system tools (debconf, adduser) are Perl'),
  prefix('RUBY', 'Ruby reads RUBYOPT (-r loads a library) and RUBYLIB'),
  ...exact(['GEM_HOME', 'GEM_PATH'], 'Ruby loads gems from the directories it names'),
  ...exact(['JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH'], 'every JVM reads it: -javaagent loads code, CLASSPATH chooses the classes'),
  prefix('LUA_', 'Lua runs LUA_INIT at start and loads modules from LUA_PATH and LUA_CPATH'),
  ...exact(['PHPRC', 'PHP_INI_SCAN_DIR'], 'PHP reads its ini files from it (auto_prepend_file runs code)'),
  ...exact(['PSModulePath'], 'PowerShell autoloads modules (code) from it for any command it does not know'),
  ...exact(['PSExecutionPolicyPreference'], "it overrides PowerShell's execution policy"),
  prefix('DOTNET_', 'the .NET runtime under PowerShell reads DOTNET_STARTUP_HOOKS (loads an assembly) and DOTNET_ADDITIONAL_DEPS'),
  prefix('COMPlus_', 'older names of the .NET runtime settings (DOTNET_*)'),
  prefix('CORECLR_', 'the .NET runtime loads the profiler library CORECLR_PROFILER_PATH names'),
];

/** Tools scripts commonly run, whose variables name a program to run, a config to obey or a certificate to trust. */
const TOOL_RULES: EnvRule[] = [
  prefix('GIT_', 'git runs GIT_SSH_COMMAND, GIT_ASKPASS and GIT_EXEC_PATH programs, and GIT_CONFIG_KEY_<n> sets any option (core.fsmonitor runs a program)'),
  ...exact(['SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'SUDO_ASKPASS'], 'ssh and sudo run the program it names to ask for a password'),
  ...exact(
    ['EDITOR', 'VISUAL', 'PAGER', 'MANPAGER', 'SYSTEMD_PAGER', 'SYSTEMD_EDITOR', 'BROWSER'],
    'git, man, systemctl, crontab and others run the program it names',
  ),
  ...exact(['LESSOPEN', 'LESSCLOSE'], 'less runs it as a command around every file it shows'),
  prefix('OPENSSL_', 'OpenSSL reads OPENSSL_CONF, whose engines and providers load shared objects, and OPENSSL_MODULES'),
  ...exact(['SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE'], "it replaces the certificates trusted for the script's HTTPS downloads"),
  ...exact(['SSLKEYLOGFILE'], 'TLS libraries write their session keys to the file it names'),
  ...exact(['CURL_HOME', 'WGETRC', 'XDG_CONFIG_HOME', 'XDG_CONFIG_DIRS'], 'curl, wget, git, pip and others read their configuration from where it points'),
  prefix('PIP_', 'pip reads every option from PIP_* (PIP_INDEX_URL installs, and runs, packages from another index)'),
  {
    name: '_proxy',
    match: 'suffix',
    ignoreCase: true,
    reason:
      "Python's urllib takes every <scheme>_proxy in any case, curl, wget, apt, pip and Go http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY: the script's downloads would go through a host of the caller's choosing",
  },
];

/** Every rule, frozen: what a caller may never set in a run's environment. */
export const ENV_DENY_LIST: readonly EnvRule[] = Object.freeze(
  [...SHELL_RULES, ...LOADER_RULES, ...INTERPRETER_RULES, ...TOOL_RULES].map((r) => Object.freeze(r)),
);

const EXACT = new Map(ENV_DENY_LIST.filter((r) => r.match === 'exact').map((r) => [r.name, r]));
const PATTERNS = ENV_DENY_LIST.filter((r) => r.match !== 'exact');

function matches(rule: EnvRule, name: string): boolean {
  const [n, r] = rule.ignoreCase ? [name.toLowerCase(), rule.name.toLowerCase()] : [name, rule.name];
  return rule.match === 'prefix' ? n.startsWith(r) : n.endsWith(r);
}

/** The rule that refuses `name`, or undefined when a caller may set it. */
export function deniedEnvRule(name: string): EnvRule | undefined {
  return EXACT.get(name) ?? PATTERNS.find((r) => matches(r, name));
}

/** What a variable name must look like: a portable shell variable name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Why a caller may not set the variable `name`, or undefined when it may: not
 * a shell variable name, reserved for what the agent sets (`MUSTER_*`), or on
 * the deny list above.
 */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return `${JSON.stringify(name)} is not a valid variable name (^[A-Za-z_][A-Za-z0-9_]*$)`;
  if (name.startsWith('MUSTER_')) return 'MUSTER_* variables are reserved for what the agent sets';
  const rule = deniedEnvRule(name);
  return rule && `${name} changes how the script runs, so a caller may not set it: ${rule.reason}`;
}
