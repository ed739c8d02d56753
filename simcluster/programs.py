"""What one start of a container does: which process runs, what it logs and when, whether it serves, how it ends.
Pure and deterministic: the same image, container spec and environment always give the same `Run`.

The command line is assembled as the kubelet and containerd assemble it: `command` replaces the image's
ENTRYPOINT, `args` its CMD, and `command` without `args` drops the CMD; `$(VAR)` is expanded from the container's
environment and `$$` becomes `$` (so a shell sees `$$` only when the manifest says `$$$$`). The runtime then
resolves the executable: one the image does not have fails the start (`StartError`, exit 128) with runc's words.

What the process does is simulated by interpreting it: the images' own processes (nginx, redis, postgres and the
docker-entrypoint scripts in front of them, agnhost's subcommands, stress, python), the userland's utilities, and
shell scripts (`sh -c`) with a small POSIX shell: lists, `&&`/`||`, pipelines, `while`/`until`/`for`/`if`,
subshells, background jobs, redirections, parameter, command and arithmetic expansion, traps and `set -e`.
Errors are worded as BusyBox ash, dash or bash word them, according to the image's userland.

Facts of a real container this keeps, because they decide exit codes users see:

* The process is PID 1 of its own PID namespace, and the kernel only delivers a signal to PID 1 from inside the
  namespace when PID 1 handles it. `kill -TERM $$` in a shell that is PID 1 does nothing; a child it forks dies.
  The stop signal (SIGTERM, SIGQUIT for nginx's image, SIGINT for postgres') is likewise dropped by a PID 1
  that does not handle it, so `sleep 3600` or a shell is SIGKILLed after the grace period (137).
* ash, dash and bash run the last simple command of `sh -c` in place of the shell (no fork), so
  `sh -c "echo hi; nginx -g 'daemon off;'"` makes nginx PID 1, and its graceful stop applies.
* Python buffers stdout when it is not a terminal: without `-u`, PYTHONUNBUFFERED or `flush=True`, prints appear
  only when the interpreter exits (and never when it is killed).
* A memory cgroup over its limit kills the whole container (Kubernetes sets `memory.oom.group`): exit 137,
  reason `OOMKilled`, no last words.

Loops that never end are unrolled until they have written `LOG_CAP` lines or run `LOOP_CAP` iterations; the
process then runs until stopped. Dates (`date`, server log timestamps) count from `started_at`.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from controlplane.registry.quantity import QuantityError, parse_quantity
from simcluster.images import BUSYBOX, Image, MiB
from simcluster.podconfig import expand

LOG_CAP = 200  # lines a never-ending loop writes before the simulation stops unrolling it
LOOP_CAP = 10_000  # iterations of a loop before it is taken to run until stopped
FILE_EVENT_CAP = 1_000
FOREVER = 365 * 24 * 3600.0  # a sleep this long (or `infinity`) is a process that runs until stopped
# terminationGracePeriodSeconds' default: a shell blocked longer than this in a foreground child never gets to run
# its trap before the SIGKILL.
GRACE_SECONDS = 30.0
ALLOCATION_SECONDS = 0.2  # from a process's start until it has allocated its working memory
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # `started_at` when the caller gives none

START_ERROR_PREFIX = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: "
                      "runc create failed: unable to start container process: error during container init: ")
EXEC_ERROR_PREFIX = ("failed to exec in container: failed to start exec {id}: OCI runtime exec failed: exec failed: "
                     "unable to start container process: ")

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "ABRT": 6, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13,
           "ALRM": 14, "TERM": 15, "CHLD": 17, "STOP": 19}
_SIGNAL_TEXT = {1: "Hangup", 2: "", 3: "Quit", 6: "Aborted", 9: "Killed", 10: "User defined signal 1",
                11: "Segmentation fault", 12: "User defined signal 2", 13: "", 14: "Alarm clock", 15: "Terminated"}
# The signal each image's STOPSIGNAL names: what the kubelet's stop (and a failed liveness probe) sends PID 1.
_STOP_SIGNAL = {"nginx": SIGNALS["QUIT"], "postgres": SIGNALS["INT"]}


@dataclass(frozen=True)
class Server:
    """A listening process: TCP `ports` from `since` (seconds after the container's start) until `until`."""

    program: str
    ports: tuple[int, ...]
    http_ports: tuple[int, ...]  # those of `ports` that speak HTTP
    http_paths: frozenset[str]  # answered 200 (others 404); "*" answers every path
    since: float
    until: float | None = None
    unhealthy_after: float | None = None  # from then on every HTTP answer is a 500 (agnhost liveness)

    def listening(self, elapsed: float, port: int) -> bool:
        return port in self.ports and self.since <= elapsed and (self.until is None or elapsed < self.until)


@dataclass(frozen=True)
class Run:
    listens: bool  # serves something (False when the command is not a server, e.g. `sleep 3600`)
    startup_seconds: float  # until it listens; HTTP/TCP probes are refused before
    logs: tuple[tuple[float, str], ...]  # (seconds after start, line), start-up lines first
    ends_after: float | None  # seconds after start when it ends by itself; None = runs until stopped
    exit_code: int  # when it ends by itself
    reason: str  # "Completed", "Error", "OOMKilled" or "StartError"
    message: str  # for StartError: the runtime's message; else ""
    last_words: tuple[str, ...]  # written just before it ends by itself (a traceback, a shell's error)
    memory: int  # bytes it uses at its peak
    stop_exit_code: int | None  # exit code on the stop signal; None = PID 1 ignores it (SIGKILL, 137)
    stop_words: tuple[str, ...]  # what it logs when stopped right after start-up (see `stop_log`)
    files: tuple[tuple[float, str, bool], ...]  # (seconds after start, path, exists): what the process changes
    servers: tuple[Server, ...] = ()
    image: Image | None = None  # for exec probes: the container's userland and files
    env: tuple[tuple[str, str], ...] = ()
    working_dir: str = "/"
    mounts: tuple[str, ...] = ()
    stdin: bool = False
    started_at: datetime = EPOCH
    stop_plan: tuple[tuple[str, int, str], ...] = ()  # (log style, pid, text) of the stop words

    def stop_log(self, elapsed: float) -> tuple[str, ...]:
        """The stop words as logged by a stop `elapsed` seconds after the start (timestamps included)."""
        when = self.started_at + timedelta(seconds=elapsed)
        return tuple(_stamp(style, when, pid, text) for style, pid, text in self.stop_plan)

    def file_exists(self, path: str, elapsed: float) -> bool:
        state: bool | None = None
        for at, name, exists in self.files:
            if at > elapsed:
                break
            if name == path:
                state = exists
        if state is not None:
            return state
        assert self.image is not None
        return self.image.has_path(path) or _under(path, self.mounts)


@dataclass(frozen=True)
class ExecResult:
    """One command run in a running container (an exec probe): its exit status, what it printed, how long it
    took; `error` is the runtime's message when it could not be started at all."""

    status: int
    output: str
    seconds: float
    error: str = ""


# ---- entry points ----------------------------------------------------------------------------------------------


def command_line(image: Image, container: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The process's argv as containerd starts it."""
    command = [expand(str(a), dict(env)) for a in container.get("command") or []]
    args = [expand(str(a), dict(env)) for a in container.get("args") or []]
    if command:
        return command + args
    return list(image.entrypoint) + (args or list(image.cmd))


def run(image: Image, container: Mapping[str, Any], env: Mapping[str, str], memory_limit: int | None, *,
        started_at: datetime | None = None) -> Run:
    """What this start of `container` does. `memory_limit` is limits.memory in bytes."""
    argv = command_line(image, container, env)
    world = _World(image, env, container, started_at or EPOCH)
    proc = _Proc(world, pid=1, out=_Sink(world, "stdout"), err=_Sink(world, "stderr"), cwd=world.working_dir,
                 env=world.base_env())
    target = world.resolve(argv[0] if argv else "", proc.cwd)
    if target is None:
        message = START_ERROR_PREFIX + _exec_failure(argv[0] if argv else "") + ": unknown"
        return _finish(world, ends_after=0.0, exit_code=128, reason="StartError", message=message)
    try:
        code = target(proc, argv)
    except _Forever as forever:
        return _oom_or(world, memory_limit, _finish(world, ends_after=None, exit_code=0, reason="",
                                                    stop=forever))
    except _Signalled as signalled:
        code = 128 + signalled.signal
    except _Exit as exited:
        code = exited.code
    proc.flush()
    ended = world.t
    stop = world.stop_of_init()
    world.t = ended
    reason = "Completed" if code == 0 else "Error"
    return _oom_or(world, memory_limit, _finish(world, ends_after=ended, exit_code=code, reason=reason, stop=stop))


def exec_in(run_: Run, argv: Sequence[str], elapsed: float) -> ExecResult:
    """Run `argv` in the container (no shell, as an exec probe does) `elapsed` seconds after it started."""
    assert run_.image is not None
    world = _World(run_.image, dict(run_.env), {"workingDir": run_.working_dir, "stdin": False},
                   run_.started_at, probe=run_, now=elapsed)
    proc = _Proc(world, pid=world.new_pid(), out=_Sink(world, "stdout"), err=_Sink(world, "stderr"),
                 cwd=run_.working_dir, env=world.base_env())
    target = world.resolve(argv[0] if argv else "", proc.cwd)
    if target is None:
        exec_id = hashlib.sha256(f"{argv}@{elapsed}".encode()).hexdigest()
        error = EXEC_ERROR_PREFIX.format(id=f'"{exec_id}"') + _exec_failure(argv[0] if argv else "") + ": unknown"
        return ExecResult(126, "", 0.0, error=error)
    try:
        status = target(proc, list(argv))
    except _Forever:
        return ExecResult(0, _output(world), FOREVER)
    except _Signalled as signalled:
        status = 128 + signalled.signal
    except _Exit as exited:
        status = exited.code
    proc.flush()
    return ExecResult(status, _output(world), world.t - elapsed)


def _output(world: _World) -> str:
    return "".join(line + "\n" for _, line, _ in world.logs)


def _exec_failure(name: str) -> str:
    if "/" in name:
        return f'exec: "{name}": stat {name}: no such file or directory'
    return f'exec: "{name}": executable file not found in $PATH'


def _finish(world: _World, *, ends_after: float | None, exit_code: int, reason: str, message: str = "",
            stop: _Forever | None = None) -> Run:
    logs = [(t, line, stream) for t, line, stream in world.logs]
    last_words: list[str] = []
    if ends_after is not None and exit_code != 0:
        while logs and logs[-1][2] == "stderr" and logs[-1][0] >= ends_after:
            last_words.insert(0, logs.pop()[1])
    servers = tuple(world.servers)
    plan = stop.plan if stop is not None else ()
    return Run(
        listens=bool(servers), startup_seconds=min((s.since for s in servers), default=0.0),
        logs=tuple((t, line) for t, line, _ in logs), ends_after=ends_after, exit_code=exit_code, reason=reason,
        message=message, last_words=tuple(last_words), memory=world.peak_memory(),
        stop_exit_code=stop.stop_exit_code if stop is not None else None,
        stop_words=tuple(_stamp(style, world.started_at + timedelta(seconds=world.settled()), pid, text)
                         for style, pid, text in plan),
        files=tuple(world.file_events), servers=servers, image=world.image, env=tuple(world.env.items()),
        working_dir=world.working_dir, mounts=world.mounts, stdin=world.stdin, started_at=world.started_at,
        stop_plan=plan,
    )


def _oom_or(world: _World, memory_limit: int | None, result: Run) -> Run:
    """The run as it ends when its memory outgrows the limit: killed by the kernel when it allocates."""
    if memory_limit is None or result.memory <= memory_limit:
        return result
    at = world.peak_at()
    if result.ends_after is not None and at > result.ends_after:
        at = result.ends_after
    return replace(
        result, logs=tuple(e for e in result.logs if e[0] <= at), ends_after=at, exit_code=137, reason="OOMKilled",
        last_words=(), files=tuple(e for e in result.files if e[0] <= at),
        servers=tuple(s if s.since <= at else replace(s, since=at, until=at) for s in result.servers),
    )


# ---- the simulated container -------------------------------------------------------------------------------


class _Exit(Exception):
    """The current process exits (a shell's `exit`, Python's sys.exit)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Signalled(Exception):
    """The current process is killed by a signal."""

    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal


class _Forever(Exception):
    """The process runs until stopped. `stop_exit_code` is what process `pid` exits with on the stop signal (None:
    it ignores it), `plan` the lines it logs then. `pid` 0 is a shell's own wait (a loop, `wait`): the shell
    decides. A shell relabels what a child reports with its own behaviour, since only PID 1 gets the signal;
    `prompt` is False while the shell waits for a foreground child and so cannot run a trap in time."""

    def __init__(self, stop_exit_code: int | None = None, plan: tuple[tuple[str, int, str], ...] = (), *,
                 pid: int = 0, prompt: bool = True) -> None:
        super().__init__(stop_exit_code)
        self.stop_exit_code = stop_exit_code
        self.plan = plan
        self.pid = pid
        self.prompt = prompt


Program = Callable[["_Proc", list[str]], int]


class _World:
    """The container while it runs: the clock, its log, its files, its servers, its memory."""

    def __init__(self, image: Image, env: Mapping[str, str], container: Mapping[str, Any], started_at: datetime,
                 *, probe: Run | None = None, now: float = 0.0) -> None:
        self.image = image
        self.env = dict(env)
        self.started_at = started_at
        self.working_dir = str(container.get("workingDir") or "/")
        self.mounts = tuple(str(m.get("mountPath", "")) for m in container.get("volumeMounts") or [])
        self.stdin = bool(container.get("stdin"))
        self.probe = probe
        self.t = now
        self.logs: list[tuple[float, str, str]] = []
        self.file_events: list[tuple[float, str, bool]] = []
        self.state: dict[str, bool] = {}
        self.servers: list[Server] = list(probe.servers) if probe else []
        self.memory: list[tuple[float, int]] = []  # (time, bytes in use from then)
        self.next_pid = 7
        self.init_shell: _Shell | None = None  # PID 1 when it is a shell that set a trap
        self.longest_block = 0.0  # PID 1 shell's longest wait for one foreground child

    def stop_of_init(self) -> _Forever | None:
        """How a PID 1 shell that ends by itself would have met the stop signal: its trap, if it set one and was
        not stuck behind a foreground child for longer than the grace period."""
        if self.init_shell is None:
            return None
        return self.init_shell.own_stop(_Forever(prompt=self.longest_block <= GRACE_SECONDS))

    # time and logs
    def settled(self) -> float:
        return max((s.since for s in self.servers), default=self.t)

    def log(self, line: str, stream: str) -> None:
        if len(self.logs) < LOG_CAP * 5:
            self.logs.append((self.t, line, stream))

    def saturated(self) -> bool:
        return len(self.logs) >= LOG_CAP or len(self.file_events) >= FILE_EVENT_CAP

    def new_pid(self) -> int:
        self.next_pid += 1
        return self.next_pid

    def stamp(self, style: str, pid: int, text: str) -> str:
        return _stamp(style, self.started_at + timedelta(seconds=self.t), pid, text)

    # files
    def exists(self, path: str) -> bool:
        if path in self.state:
            return self.state[path]
        if self.probe is not None:
            return self.probe.file_exists(path, self.t)
        return self.image.has_path(path) or _under(path, self.mounts)

    def set_file(self, path: str, exists: bool) -> None:
        if self.exists(path) == exists and path in self.state:
            return
        self.state[path] = exists
        if self.probe is None:
            self.file_events.append((self.t, path, exists))

    def resolve(self, name: str, cwd: str) -> Program | None:
        """The program `name` runs, as execve finds it through $PATH (or at the path given)."""
        if not name:
            return None
        if "/" in name:
            path = _absolute(name, cwd)
            if not self.exists(path):
                return None
            base = path.rsplit("/", 1)[1]
            if path in self.image.paths and path.startswith("/agnhost"):
                return _agnhost
            if base == "docker-entrypoint.sh":
                return _entrypoint
            return _PROGRAMS.get(base, _script_or_silent(path))
        if name not in self.image.programs:
            return None
        if name == "docker-entrypoint.sh":
            return _entrypoint
        return _PROGRAMS.get(name, _silent)

    # servers and memory
    def serve(self, server: Server) -> None:
        self.servers.append(server)

    def listening(self, port: int) -> Server | None:
        return next((s for s in self.servers if s.listening(self.t, port)), None)

    def use_memory(self, amount: int, *, at: float | None = None) -> None:
        self.memory.append((self.t if at is None else at, amount))

    def peak_memory(self) -> int:
        wanted = self.env.get("SIMCLUSTER_MEMORY")
        if wanted:
            try:
                return int(parse_quantity(wanted).value)
            except QuantityError:
                pass  # not a quantity: the demo knob is off, the process uses what it uses
        return max((amount for _, amount in self.memory), default=self.image.memory)

    def peak_at(self) -> float:
        if not self.memory:
            return ALLOCATION_SECONDS
        peak = max(amount for _, amount in self.memory)
        at = next(t for t, amount in self.memory if amount == peak)
        return at if at > 0 else ALLOCATION_SECONDS

    def base_env(self) -> dict[str, str]:
        return {"PATH": PATH, **self.env, "HOME": "/root"}


def _under(path: str, mounts: Sequence[str]) -> bool:
    return any(m and (path == m or path.startswith(m.rstrip("/") + "/")) for m in mounts)


def _absolute(path: str, cwd: str) -> str:
    if not path.startswith("/"):
        path = cwd.rstrip("/") + "/" + path
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def _stamp(style: str, when: datetime, pid: int, text: str) -> str:
    ms = when.microsecond // 1000
    if style == "nginx":
        return f"{when:%Y/%m/%d %H:%M:%S} [notice] {pid}#{pid}: {text}"
    if style.startswith("redis:"):  # redis:C (before it forks its roles) or redis:M (the master)
        return f"{pid}:{style[6:]} {when:%d %b %Y %H:%M:%S}.{ms:03d} {text}"
    if style == "redis-signal":
        return f"{pid}:signal-handler ({int(when.timestamp())}) {text}"
    if style == "postgres":
        return f"{when:%Y-%m-%d %H:%M:%S}.{ms:03d} UTC [{pid}] {text}"
    if style == "go":
        return f"{when:%Y/%m/%d %H:%M:%S} {text}"
    return text


class _Sink:
    """Where a stream goes: the container's log, a file, nowhere, or a capture (command substitution, pipes)."""

    def __init__(self, world: _World, stream: str, *, path: str = "", capture: list[str] | None = None) -> None:
        self.world = world
        self.stream = stream
        self.path = path
        self.capture = capture

    def write(self, line: str) -> None:
        if self.capture is not None:
            self.capture.append(line)
        elif self.path == "/dev/null":
            return
        elif self.path:
            self.world.set_file(self.path, True)
        else:
            self.world.log(line, self.stream)


@dataclass
class _Proc:
    """One process: its pid, streams, working directory and environment."""

    world: _World
    pid: int
    out: _Sink
    err: _Sink
    cwd: str
    env: dict[str, str]
    stdin: list[str] | None = None  # lines piped in; None = the container's stdin (empty unless `stdin: true`)
    pending: list[str] = field(default_factory=list)  # buffered stdout (Python), written at exit

    def flush(self) -> None:
        for line in self.pending:
            self.out.write(line)
        self.pending.clear()

    @property
    def busybox(self) -> bool:
        return self.world.image.userland == BUSYBOX

    def child(self, *, pid: int | None = None, out: _Sink | None = None, stdin: list[str] | None = None) -> _Proc:
        return _Proc(self.world, self.world.new_pid() if pid is None else pid, out or self.out, self.err, self.cwd,
                     dict(self.env), stdin)

    def path(self, name: str) -> str:
        return _absolute(name, self.cwd)

    def sleep(self, seconds: float) -> None:
        if seconds >= FOREVER:
            raise _Forever(pid=self.pid, prompt=False)
        self.world.t += seconds

    def read_stdin(self) -> list[str]:
        if self.stdin is not None:
            return self.stdin
        if self.world.stdin:
            raise _Forever(pid=self.pid, prompt=False)
        return []


# ---- a small POSIX shell -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seg:
    kind: str  # "text", "param" ($X, ${X:-y}), "cmd" ($(...), `...`), "arith" ($((...)))
    value: str
    quoted: bool


@dataclass(frozen=True)
class _Word:
    segs: tuple[_Seg, ...]

    def plain(self) -> str | None:
        """The word as written when it is unquoted literal text (keywords, assignments)."""
        if all(s.kind == "text" and not s.quoted for s in self.segs):
            return "".join(s.value for s in self.segs)
        return None


@dataclass(frozen=True)
class _Tok:
    kind: str  # "word", "op", "nl", "io" (a redirection with its file descriptor)
    value: str = ""
    word: _Word | None = None
    line: int = 1
    fd: int = -1


class _ShellSyntax(Exception):
    def __init__(self, kind: str, detail: str, line: int) -> None:
        super().__init__(detail)
        self.kind = kind  # "quote", "eof" (detail: what was expected) or "token" (detail: the token)
        self.detail = detail
        self.line = line


_OPERATORS = ("&&", "||", ";;", ">>", ">&", "<&", ">|", "&>", ";", "&", "|", "(", ")", "<", ">")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAMS = "?$#!@*-0123456789"


def _lex(script: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, line, n = 0, 1, len(script)
    while i < n:
        c = script[i]
        if c in " \t\r":
            i += 1
        elif c == "\\" and script.startswith("\\\n", i):
            i, line = i + 2, line + 1
        elif c == "\n":
            toks.append(_Tok("nl", line=line))
            i, line = i + 1, line + 1
        elif c == "#":
            while i < n and script[i] != "\n":
                i += 1
        elif op := next((o for o in _OPERATORS if script.startswith(o, i)), None):
            kind = "io" if op in (">>", ">&", "<&", ">|", "&>", "<", ">") else "op"
            toks.append(_Tok(kind, op, line=line, fd=(1 if op[0] in ">&" else 0) if kind == "io" else -1))
            i += len(op)
        else:
            start_line = line
            segs, i, line = _lex_word(script, i, line)
            word = _Word(tuple(segs))
            plain = word.plain()
            if plain is not None and plain.isdigit() and i < n and script[i] in "<>":
                op = next(o for o in _OPERATORS if script.startswith(o, i))
                toks.append(_Tok("io", op, line=line, fd=int(plain)))
                i += len(op)
            else:
                toks.append(_Tok("word", word=word, line=start_line))
    return toks


def _lex_word(s: str, i: int, line: int) -> tuple[list[_Seg], int, int]:
    segs: list[_Seg] = []

    def text(value: str, quoted: bool) -> None:
        if segs and segs[-1].kind == "text" and segs[-1].quoted == quoted:
            segs[-1] = _Seg("text", segs[-1].value + value, quoted)
        else:
            segs.append(_Seg("text", value, quoted))

    n = len(s)
    while i < n and s[i] not in " \t\r\n;&|()<>":
        c = s[i]
        if c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise _ShellSyntax("quote", "'", line)
            text(s[i + 1 : end], True)
            line += s.count("\n", i, end)
            i = end + 1
        elif c == '"':
            i += 1
            while True:
                if i >= n:
                    raise _ShellSyntax("quote", '"', line)
                c = s[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and s[i + 1] in '$`"\\\n':
                    if s[i + 1] != "\n":
                        text(s[i + 1], True)
                    i += 2
                elif c == "$" or c == "`":
                    seg, i = _lex_dollar(s, i, True, line)
                    segs.append(seg)
                else:
                    line += c == "\n"
                    text(c, True)
                    i += 1
            if not segs:
                text("", True)
        elif c == "\\":
            if i + 1 < n:
                text(s[i + 1], True)
            i += 2
        elif c in "$`":
            seg, i = _lex_dollar(s, i, False, line)
            segs.append(seg)
        else:
            text(c, False)
            i += 1
    return segs, i, line


def _lex_operand(text: str, line: int) -> _Word:
    """The word inside `${NAME:-word}`: expansions and quotes as in a word, but blanks are part of it."""
    segs: list[_Seg] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "$`":
            seg, i = _lex_dollar(text, i, True, line)
            segs.append(seg)
            continue
        if c == "'":
            end = text.find("'", i + 1)
            end = len(text) if end < 0 else end
            segs.append(_Seg("text", text[i + 1 : end], True))
            i = end + 1
            continue
        if c == "\\" and i + 1 < len(text):
            c = text[i + 1]
            i += 1
        if c != '"':
            segs.append(_Seg("text", c, True))
        i += 1
    return _Word(tuple(segs))


def _closing(s: str, i: int, opener: str, closer: str, line: int) -> int:
    """The index of the `closer` matching the `opener` just before `i`, skipping quoted text."""
    depth = 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c in "'\"":
            end = s.find(c, i + 1)
            if end < 0:
                raise _ShellSyntax("quote", c, line)
            i = end + 1
            continue
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise _ShellSyntax("eof", closer, line)


def _lex_dollar(s: str, i: int, quoted: bool, line: int) -> tuple[_Seg, int]:
    if s[i] == "`":
        end = s.find("`", i + 1)
        if end < 0:
            raise _ShellSyntax("quote", "`", line)
        return _Seg("cmd", s[i + 1 : end], quoted), end + 1
    rest = s[i + 1 :]
    if rest.startswith("(("):
        end = _closing(s, i + 3, "(", ")", line)
        if s[end + 1 : end + 2] == ")":
            return _Seg("arith", s[i + 3 : end], quoted), end + 2
    if rest.startswith("("):
        end = _closing(s, i + 2, "(", ")", line)
        return _Seg("cmd", s[i + 2 : end], quoted), end + 1
    if rest.startswith("{"):
        end = _closing(s, i + 2, "{", "}", line)
        return _Seg("param", s[i + 2 : end], quoted), end + 1
    if match := _NAME.match(rest):
        return _Seg("param", match.group(0), quoted), i + 1 + match.end()
    if rest[:1] and rest[0] in _SPECIAL_PARAMS:
        return _Seg("param", rest[0], quoted), i + 2
    return _Seg("text", "$", quoted), i + 1


@dataclass
class _Redir:
    fd: int
    op: str
    target: _Word


@dataclass
class _Simple:
    assigns: list[tuple[str, _Word]]
    words: list[_Word]
    redirs: list[_Redir]
    line: int


@dataclass
class _Pipeline:
    cmds: list[_Node]
    negate: bool


@dataclass
class _AndOr:
    first: _Node
    rest: list[tuple[str, _Node]]


@dataclass
class _List:
    items: list[tuple[_Node, bool]]  # (command, run in the background)


@dataclass
class _Loop:
    cond: _List
    body: _List
    until: bool


@dataclass
class _For:
    var: str
    words: list[_Word] | None
    body: _List


@dataclass
class _If:
    branches: list[tuple[_List, _List]]
    orelse: _List | None


@dataclass
class _Case:
    word: _Word
    items: list[tuple[list[_Word], _List]]


@dataclass
class _Group:
    body: _List
    subshell: bool
    redirs: list[_Redir] = field(default_factory=list)


_Node = _Simple | _Pipeline | _AndOr | _List | _Loop | _For | _If | _Case | _Group


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def keyword(self) -> str | None:
        tok = self.peek()
        return tok.word.plain() if tok is not None and tok.kind == "word" and tok.word is not None else None

    def line(self) -> int:
        tok = self.peek()
        return tok.line if tok else (self.toks[-1].line if self.toks else 1)

    def skip_newlines(self) -> None:
        while (tok := self.peek()) is not None and tok.kind == "nl":
            self.i += 1

    def expect(self, word: str) -> None:
        self.skip_newlines()
        if self.keyword() != word:
            self.unexpected(word)
        self.i += 1

    def unexpected(self, expecting: str) -> None:
        tok = self.peek()
        if tok is None:
            raise _ShellSyntax("eof", expecting, self.line())
        shown = tok.value if tok.kind in ("op", "io") else ("newline" if tok.kind == "nl" else
                                                              (tok.word.plain() if tok.word else "") or "word")
        raise _ShellSyntax("token", shown, tok.line)

    def program(self) -> _List:
        body = self.list_(frozenset())
        if self.peek() is not None:
            self.unexpected("")
        return body

    def list_(self, stops: frozenset[str]) -> _List:
        items: list[tuple[_Node, bool]] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if tok is None or (tok.kind == "op" and tok.value in (")", ";;")) or self.keyword() in stops:
                return _List(items)
            node = self.and_or()
            background = False
            tok = self.peek()
            if tok is not None and tok.kind == "op" and tok.value in (";", "&"):
                background = tok.value == "&"
                self.i += 1
            elif tok is not None and tok.kind != "nl" and not (tok.kind == "op" and tok.value in (")", ";;")) and (
                    self.keyword() not in stops):
                self.unexpected("")
            items.append((node, background))

    def and_or(self) -> _Node:
        first = self.pipeline()
        rest: list[tuple[str, _Node]] = []
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value in ("&&", "||"):
            self.i += 1
            self.skip_newlines()
            rest.append((tok.value, self.pipeline()))
        return _AndOr(first, rest) if rest else first

    def pipeline(self) -> _Node:
        negate = self.keyword() == "!"
        if negate:
            self.i += 1
        cmds = [self.command()]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value == "|":
            self.i += 1
            self.skip_newlines()
            cmds.append(self.command())
        return _Pipeline(cmds, negate) if negate or len(cmds) > 1 else cmds[0]

    def command(self) -> _Node:
        word = self.keyword()
        tok = self.peek()
        if tok is None:
            self.unexpected("")
        assert tok is not None
        if word in ("while", "until"):
            self.i += 1
            cond = self.list_(frozenset({"do"}))
            self.expect("do")
            body = self.list_(frozenset({"done"}))
            self.expect("done")
            return self.redirected(_Loop(cond, body, word == "until"))
        if word == "for":
            self.i += 1
            name = self.keyword()
            if name is None or not _NAME.fullmatch(name):
                self.unexpected("name")
            assert name is not None
            self.i += 1
            words: list[_Word] | None = None
            self.skip_newlines()
            if self.keyword() == "in":
                self.i += 1
                words = []
                while (t := self.peek()) is not None and t.kind == "word" and t.word is not None:
                    words.append(t.word)
                    self.i += 1
            if (t := self.peek()) is not None and t.kind == "op" and t.value == ";":
                self.i += 1
            self.expect("do")
            body = self.list_(frozenset({"done"}))
            self.expect("done")
            return _For(name, words, body)
        if word == "if":
            self.i += 1
            branches: list[tuple[_List, _List]] = []
            orelse: _List | None = None
            while True:
                cond = self.list_(frozenset({"then"}))
                self.expect("then")
                branches.append((cond, self.list_(frozenset({"elif", "else", "fi"}))))
                self.skip_newlines()
                kw = self.keyword()
                self.i += 1
                if kw == "elif":
                    continue
                if kw == "else":
                    orelse = self.list_(frozenset({"fi"}))
                    self.expect("fi")
                elif kw != "fi":
                    self.i -= 1
                    self.unexpected("fi")
                return self.redirected(_If(branches, orelse))
        if word == "case":
            return self.redirected(self.case())
        if word == "{":
            self.i += 1
            body = self.list_(frozenset({"}"}))
            self.expect("}")
            return self.redirected(_Group(body, False))
        if tok.kind == "op" and tok.value == "(":
            self.i += 1
            body = self.list_(frozenset())
            if (t := self.peek()) is None or t.kind != "op" or t.value != ")":
                self.unexpected(")")
            self.i += 1
            return self.redirected(_Group(body, True))
        if word in ("do", "done", "then", "fi", "elif", "else", "}") or tok.kind == "op":
            self.unexpected("")
        return self.simple()

    def case(self) -> _Case:
        self.i += 1
        tok = self.peek()
        if tok is None or tok.kind != "word" or tok.word is None:
            self.unexpected("word")
        assert tok is not None and tok.word is not None
        self.i += 1
        self.expect("in")
        node = _Case(tok.word, [])
        while True:
            self.skip_newlines()
            if self.keyword() == "esac":
                self.i += 1
                return node
            if (t := self.peek()) is not None and t.kind == "op" and t.value == "(":
                self.i += 1
            patterns: list[_Word] = []
            while (t := self.peek()) is not None and t.kind == "word" and t.word is not None:
                patterns.append(t.word)
                self.i += 1
                if (t := self.peek()) is not None and t.kind == "op" and t.value == "|":
                    self.i += 1
            if not patterns or (t := self.peek()) is None or t.kind != "op" or t.value != ")":
                self.unexpected(")")
            self.i += 1
            node.items.append((patterns, self.list_(frozenset({"esac"}))))
            if (t := self.peek()) is not None and t.kind == "op" and t.value == ";;":
                self.i += 1

    def redirected(self, node: _Node) -> _Node:
        redirs = self.redirections()
        if redirs:
            return _Group(_List([(node, False)]), False, redirs)
        return node

    def redirections(self) -> list[_Redir]:
        redirs: list[_Redir] = []
        while (tok := self.peek()) is not None and tok.kind == "io":
            self.i += 1
            target = self.peek()
            if target is None or target.kind != "word" or target.word is None:
                self.unexpected("word")
            assert target is not None and target.word is not None
            self.i += 1
            redirs.append(_Redir(tok.fd, tok.value, target.word))
        return redirs

    def simple(self) -> _Simple:
        line = self.line()
        assigns: list[tuple[str, _Word]] = []
        words: list[_Word] = []
        redirs: list[_Redir] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "io":
                redirs.extend(self.redirections())
                continue
            if tok.kind != "word" or tok.word is None:
                break
            first = tok.word.segs[0] if tok.word.segs else None
            if (not words and first is not None and first.kind == "text" and not first.quoted
                    and (m := re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", first.value))):
                value = (_Seg("text", first.value[m.end():], False), *tok.word.segs[1:])
                assigns.append((m.group(1), _Word(value)))
            else:
                words.append(tok.word)
            self.i += 1
        return _Simple(assigns, words, redirs, line)


class _Shell:
    """A shell process interpreting a script: ash (BusyBox), dash (Debian's sh) or bash."""

    def __init__(self, proc: _Proc, name: str, dialect: str, params: list[str], *, dollar: int | None = None) -> None:
        self.proc = proc
        self.name = name
        self.dialect = dialect  # "ash", "dash" or "bash"
        self.params = params
        self.vars: dict[str, str] = dict(proc.env)
        self.exported = set(proc.env)
        self.dollar = proc.pid if dollar is None else dollar  # $$: a subshell keeps its parent's
        self.status = 0
        self.lineno = 1
        self.errexit = False
        self.xtrace = False
        self.conditions = 0  # > 0 while evaluating a condition (set -e does not apply)
        self.traps: dict[int, str] = {}
        self.exited = False  # `exit` ran (a trap that exits, as opposed to one that returns)
        self.jobs: dict[int, tuple[float | None, int]] = {}  # pid -> (end time or None if still running, status)
        self.last_job = ""

    @property
    def world(self) -> _World:
        return self.proc.world

    # messages, as each shell words them
    def prefix(self) -> str:
        if self.dialect == "ash":
            return f"{self.name}: "
        if self.dialect == "bash":
            return f"{self.name}: line {self.lineno}: "
        return f"{self.name}: {self.lineno}: "

    def error(self, text: str) -> None:
        self.proc.err.write(self.prefix() + text)

    def syntax_message(self, err: _ShellSyntax) -> str:
        self.lineno = err.line
        if self.dialect == "bash":
            if err.kind == "quote":
                return f"{self.name}: -c: line {err.line}: unexpected EOF while looking for matching `{err.detail}'"
            if err.kind == "eof":
                return f"{self.name}: -c: line {err.line}: syntax error: unexpected end of file"
            return f"{self.name}: -c: line {err.line}: syntax error near unexpected token `{err.detail}'"
        if self.dialect == "ash":
            if err.kind == "quote":
                return f"{self.name}: syntax error: unterminated quoted string"
            if err.kind == "eof":
                expecting = f' (expecting "{err.detail}")' if err.detail else ""
                return f"{self.name}: syntax error: unexpected end of file{expecting}"
            return f'{self.name}: syntax error: unexpected "{err.detail}"'
        if err.kind == "quote":
            return f"{self.name}: {err.line}: Syntax error: Unterminated quoted string"
        if err.kind == "eof":
            expecting = f' (expecting "{err.detail}")' if err.detail else ""
            return f"{self.name}: {err.line}: Syntax error: end of file unexpected{expecting}"
        return f'{self.name}: {err.line}: Syntax error: "{err.detail}" unexpected'

    # running
    def run_script(self, script: str, *, exec_last: bool = True) -> int:
        try:
            tree = _Parser(_lex(script)).program()
        except _ShellSyntax as err:
            self.proc.err.write(self.syntax_message(err))
            return 2
        try:
            return self.eval_list(tree, last=exec_last)
        except _Exit as exited:
            return exited.code
        except _Forever as forever:
            raise self.own_stop(forever) from None

    def own_stop(self, forever: _Forever, *, blocked: bool = False) -> _Forever:
        """How this process meets the stop signal while it waits: a program exec'd in its place keeps its own
        behaviour; otherwise this shell's trap for the signal decides, if it gets to run (`blocked`: the shell
        is waiting for a foreground child). Without one, PID 1 ignores the signal."""
        if forever.pid == self.proc.pid:
            return forever
        prompt = forever.prompt and not blocked
        action = self.traps.get(_STOP_SIGNAL.get(self.world.image.name, SIGNALS["TERM"]))
        if action is None or not prompt:
            return _Forever(pid=self.proc.pid, prompt=prompt)
        lines: list[str] = []
        handler = self.subshell(out=_Sink(self.world, "stdout", capture=lines))
        world = self.world
        saved = world.t, len(world.logs), len(world.file_events)
        try:
            code: int | None = handler.run_script(action, exec_last=False)
        except (_Forever, _Signalled):
            code = None
        world.t = saved[0]
        del world.logs[saved[1] :], world.file_events[saved[2] :]
        if not handler.exited:
            code = None  # the trap returns and the script carries on: the signal changed nothing
        return _Forever(code, tuple(("plain", self.proc.pid, line) for line in lines), pid=self.proc.pid)

    def eval_list(self, lst: _List, *, last: bool) -> int:
        status = 0
        for index, (node, background) in enumerate(lst.items):
            if background:
                self.background(node)
                status = 0
                continue
            status = self.eval(node, last=last and index == len(lst.items) - 1)
        return status

    def eval(self, node: _Node, *, last: bool) -> int:
        if isinstance(node, _Simple):
            status = self.eval_simple(node, last=last)
        elif isinstance(node, _Pipeline):
            status = self.eval_pipeline(node)
        elif isinstance(node, _AndOr):
            self.conditions += 1
            try:
                status = self.eval(node.first, last=False)
                for index, (op, right) in enumerate(node.rest):
                    if (op == "&&") == (status == 0):
                        final = index == len(node.rest) - 1
                        if final:
                            self.conditions -= 1
                        try:
                            status = self.eval(right, last=last and final)
                        finally:
                            if final:
                                self.conditions += 1
            finally:
                self.conditions -= 1
            return status
        elif isinstance(node, _List):
            status = self.eval_list(node, last=last)
        elif isinstance(node, _Loop):
            status = self.eval_loop(node)
        elif isinstance(node, _For):
            status = 0
            values = self.expand_words(node.words) if node.words is not None else list(self.params)
            for value in values:
                self.vars[node.var] = value
                status = self.eval_list(node.body, last=False)
                self.guard(0)
        elif isinstance(node, _Case):
            status = 0
            value = self.expand_string(node.word)
            for patterns, body in node.items:
                if any(fnmatch.fnmatchcase(value, self.pattern(p)) for p in patterns):
                    status = self.eval_list(body, last=last)
                    break
        elif isinstance(node, _If):
            status = 0
            for cond, body in node.branches:
                if self.condition(cond) == 0:
                    return self.eval_list(body, last=last)
            if node.orelse is not None:
                status = self.eval_list(node.orelse, last=last)
        else:
            assert isinstance(node, _Group)
            status = self.eval_group(node, last=last)
        self.status = status
        return status

    def condition(self, cond: _List) -> int:
        self.conditions += 1
        try:
            return self.eval_list(cond, last=False)
        finally:
            self.conditions -= 1

    def guard(self, iterations: int) -> None:
        """Stop unrolling a loop that has written enough or gone on long enough: it runs until stopped."""
        if self.world.saturated() or iterations >= LOOP_CAP:
            raise _Forever(prompt=True)

    def eval_loop(self, node: _Loop) -> int:
        status = 0
        iterations = 0
        while True:
            done = self.condition(node.cond) != 0
            if done != node.until:
                return status
            status = self.eval_list(node.body, last=False)
            iterations += 1
            self.guard(iterations)

    def eval_group(self, node: _Group, *, last: bool) -> int:
        with self.redirected(node.redirs) as ok:
            if not ok:
                return 1
            if not node.subshell:
                return self.eval_list(node.body, last=last)
            sub = self.subshell()
            try:
                return sub.eval_list(node.body, last=last)
            except _Exit as exited:
                return exited.code
            except _Forever as forever:
                raise self.own_stop(forever, blocked=True) from None

    def subshell(self, *, out: _Sink | None = None, stdin: list[str] | None = None) -> _Shell:
        sub = _Shell(self.proc.child(out=out, stdin=stdin), self.name, self.dialect, self.params,
                     dollar=self.dollar)
        sub.vars = dict(self.vars)
        sub.exported = set(self.exported)
        sub.status, sub.lineno, sub.errexit, sub.traps = self.status, self.lineno, self.errexit, {}
        return sub

    def background(self, node: _Node) -> None:
        """`cmd &`: the job runs alongside; its lines and files land at their own times."""
        sub = self.subshell()
        start = self.world.t
        try:
            status = sub.eval(node, last=True)
            end: float | None = self.world.t
        except _Exit as exited:
            status, end = exited.code, self.world.t
        except _Forever:
            status, end = 0, None
        except _Signalled as signalled:
            status, end = 128 + signalled.signal, self.world.t
        self.world.t = start
        self.jobs[sub.proc.pid] = (end, status)
        self.last_job = str(sub.proc.pid)

    def eval_pipeline(self, node: _Pipeline) -> int:
        stdin: list[str] | None = None
        status = 0
        for index, cmd in enumerate(node.cmds):
            final = index == len(node.cmds) - 1
            captured: list[str] = []
            sub = self.subshell(out=None if final else _Sink(self.world, "stdout", capture=captured), stdin=stdin)
            try:
                status = sub.eval(cmd, last=True)
            except _Exit as exited:
                status = exited.code
            except _Forever as forever:
                raise self.own_stop(forever, blocked=True) from None
            stdin = captured
        if node.negate:
            return 0 if status else 1
        self.check_errexit(status)
        return status

    def check_errexit(self, status: int) -> None:
        if status and self.errexit and not self.conditions:
            raise _Exit(status)

    @contextmanager
    def redirected(self, redirs: list[_Redir]) -> Iterator[bool]:
        proc = self.proc
        saved = proc.out, proc.err
        try:
            for r in redirs:
                target = " ".join(self.expand_word(r.target))
                if r.op in (">&", "<&") and target.isdigit():
                    source = proc.err if target == "2" else proc.out
                    if r.fd == 2:
                        proc.err = source
                    elif r.fd == 1:
                        proc.out = source
                    continue
                if r.op == "<":
                    if not self.world.exists(proc.path(target)):
                        self.error(self.cannot_open(target))
                        yield False
                        return
                    continue
                sink = self.file_sink(target, "stderr" if r.fd == 2 else "stdout")
                if sink is None:
                    yield False
                    return
                if r.op == "&>":
                    proc.out = proc.err = sink
                elif r.fd == 2:
                    proc.err = sink
                else:
                    proc.out = sink
            yield True
        finally:
            proc.out, proc.err = saved

    def cannot_open(self, target: str) -> str:
        if self.dialect == "ash":
            return f"can't open '{target}': No such file or directory"
        if self.dialect == "bash":
            return f"{target}: No such file or directory"
        return f"cannot open {target}: No such file"

    def file_sink(self, target: str, stream: str) -> _Sink | None:
        if target in ("/dev/stdout", "/dev/stderr"):
            return _Sink(self.world, "stderr" if target == "/dev/stderr" else "stdout")
        path = self.proc.path(target)
        if path != "/dev/null":
            directory = path.rsplit("/", 1)[0] or "/"
            if not self.world.exists(directory):
                if self.dialect == "ash":
                    self.error(f"can't create {target}: nonexistent directory")
                elif self.dialect == "bash":
                    self.error(f"{target}: No such file or directory")
                else:
                    self.error(f"cannot create {target}: Directory nonexistent")
                return None
            self.world.set_file(path, True)
        return _Sink(self.world, stream, path=path)

    # expansion
    def expand_words(self, words: Sequence[_Word]) -> list[str]:
        out: list[str] = []
        for word in words:
            out.extend(self.expand_word(word))
        return out

    def expand_word(self, word: _Word) -> list[str]:
        fields: list[str] = []
        current = ""
        has = False
        for seg in word.segs:
            if seg.kind == "text":
                current += seg.value
                has = has or seg.quoted or bool(seg.value)
                continue
            if seg.kind == "param" and seg.value in ("@", "*") and (seg.value == "@" or not seg.quoted):
                values = list(self.params)
                if not values:
                    continue
                if not seg.quoted:
                    values = [p for v in values for p in v.split()]
                if not values:
                    continue
                current += values[0]
                for value in values[1:]:
                    fields.append(current)
                    current = value
                has = True
                continue
            value = self.expand_seg(seg)
            if seg.quoted:
                current += value
                has = True
                continue
            pieces = value.split()
            if not pieces:
                continue
            if value[:1].isspace() and has:
                fields.append(current)
                current = ""
            current += pieces[0]
            for piece in pieces[1:]:
                fields.append(current)
                current = piece
            has = True
            if value[-1:].isspace():
                fields.append(current)
                current, has = "", False
        if has:
            fields.append(current)
        return fields

    def expand_string(self, word: _Word) -> str:
        """A word expanded without field splitting (assignments, redirection targets)."""
        return "".join(s.value if s.kind == "text" else self.expand_seg(s) for s in word.segs)

    def pattern(self, word: _Word) -> str:
        """A `case` pattern: glob characters count only where they are not quoted."""
        return "".join(
            (s.value if not s.quoted else re.sub(r"([*?\[])", r"[\1]", s.value)) if s.kind == "text"
            else re.sub(r"([*?\[])", r"[\1]", self.expand_seg(s)) for s in word.segs)

    def expand_seg(self, seg: _Seg) -> str:
        if seg.kind == "cmd":
            return self.substitute(seg.value)
        if seg.kind == "arith":
            return str(self.arith(seg.value))
        return self.param(seg.value)

    def param(self, expr: str) -> str:
        if expr == "?":
            return str(self.status)
        if expr == "$":
            return str(self.dollar)
        if expr == "#":
            return str(len(self.params))
        if expr == "!":
            return self.last_job
        if expr in ("@", "*"):
            return " ".join(self.params)
        if expr == "-":
            return "e" * self.errexit + "x" * self.xtrace
        if expr.isdigit():
            index = int(expr)
            if index == 0:
                return self.name
            return self.params[index - 1] if index <= len(self.params) else ""
        if expr.startswith("#") and len(expr) > 1:
            return str(len(self.param(expr[1:])))
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*|[0-9?$#!@*])(:?[-=+?])?(.*)", expr, re.S)
        if match is None:
            self.error(f"{expr}: bad substitution" if self.dialect != "ash" else "syntax error: bad substitution")
            raise _Exit(2)
        name, op, word = match.group(1), match.group(2), match.group(3)
        value = self.vars.get(name) if _NAME.fullmatch(name) else self.param(name)
        if not op:
            return value or ""
        unset = value is None or (op.startswith(":") and value == "")
        alt = self.expand_string(_lex_operand(word, self.lineno)) if word else ""
        if op.endswith("-"):
            return alt if unset else value or ""
        if op.endswith("="):
            if unset:
                self.vars[name] = alt
                return alt
            return value or ""
        if op.endswith("+"):
            return "" if unset else alt
        if unset:
            self.error(f"{name}: {alt or 'parameter not set'}")
            raise _Exit(2 if self.dialect != "bash" else 1)
        return value or ""

    def substitute(self, script: str) -> str:
        captured: list[str] = []
        sub = self.subshell(out=_Sink(self.world, "stdout", capture=captured))
        status = sub.run_script(script, exec_last=False)
        self.status = status
        return "\n".join(captured).rstrip("\n")

    def arith(self, expr: str) -> int:
        text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: self.vars.get(m.group(1), "") or "0", expr)
        text = re.sub(r"\$([0-9#?$])", lambda m: self.param(m.group(1)) or "0", text)
        try:
            return _arith(text.strip() or "0", self.vars)
        except ZeroDivisionError:
            self.error("divide by zero" if self.dialect == "ash" else "arithmetic expression: division by zero")
            raise _Exit(2) from None
        except (SyntaxError, ValueError, TypeError):
            self.error(f"arithmetic syntax error: {expr.strip()}")
            raise _Exit(2) from None

    # simple commands
    def eval_simple(self, node: _Simple, *, last: bool) -> int:
        self.lineno = node.line
        argv = self.expand_words(node.words)
        assigns = {name: self.expand_string(value) for name, value in node.assigns}
        if not argv:
            self.vars.update(assigns)
            with self.redirected(node.redirs) as ok:
                status = self.status if ok and node.assigns else (0 if ok else 1)
            self.check_errexit(status)
            return status
        if self.xtrace:
            self.proc.err.write("+ " + " ".join(argv))
        with self.redirected(node.redirs) as ok:
            status = self.command(argv, assigns, last=last and not self.traps) if ok else 1
        self.status = status
        self.check_errexit(status)
        return status

    def command(self, argv: list[str], assigns: Mapping[str, str], *, last: bool) -> int:
        builtin = _BUILTINS.get(argv[0])
        if builtin is not None:
            self.vars.update(assigns)  # as for POSIX special builtins, prefix assignments stay
            return builtin(self, argv)
        return self.spawn(argv, assigns, exec_=last)

    def environment(self, assigns: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in self.vars.items() if k in self.exported}
        env.update(assigns)
        return env

    def spawn(self, argv: list[str], assigns: Mapping[str, str], *, exec_: bool, builtin: str = "") -> int:
        """Run a program: in a child process, or in place of this shell (`exec`, or the script's last command)."""
        target = self.world.resolve(argv[0], self.proc.cwd)
        if target is None:
            if builtin:
                self.error(f"exec: {argv[0]}: not found")
                raise _Exit(127)
            if self.dialect == "bash":
                self.error(f"{argv[0]}: command not found")
            else:
                self.error(f"{argv[0]}: not found")
            return 127
        proc = self.proc if exec_ else self.proc.child()
        proc.env = self.environment(assigns)
        if exec_:
            if self.world.init_shell is self:
                self.world.init_shell = None  # exec drops the shell, and its traps with it
            try:
                raise _Exit(target(proc, argv))
            finally:
                proc.flush()
        began = self.world.t
        try:
            return target(proc, argv)
        except _Exit as exited:
            return exited.code
        except _Signalled as signalled:
            # The shell reports how its foreground child died, as ash, dash and bash do without a terminal.
            text = _SIGNAL_TEXT.get(signalled.signal, f"Signal {signalled.signal}")
            if text:
                self.proc.err.write(text)
            return 128 + signalled.signal
        except _Forever as forever:
            raise self.own_stop(forever, blocked=True) from None
        finally:
            proc.flush()
            if self.proc.pid == 1:
                self.world.longest_block = max(self.world.longest_block, self.world.t - began)

    def run_inline(self, script: str) -> int:
        """Run `script` in this shell (`eval`, a trap's action)."""
        try:
            tree = _Parser(_lex(script)).program()
        except _ShellSyntax as err:
            self.proc.err.write(self.syntax_message(err))
            return 2
        return self.eval_list(tree, last=False)


def _arith(text: str, variables: Mapping[str, str]) -> int:
    ops: dict[type, Callable[..., Any]] = {
        ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Mod: operator.mod,
        ast.Div: operator.floordiv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
        ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitAnd: operator.and_,
        ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne,
    }
    text = text.replace("&&", " and ").replace("||", " or ").replace("!=", "≠").replace("!", " not ")
    text = text.replace("≠", "!=")

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            raw = variables.get(node.id, "0") or "0"
            return int(raw) if re.fullmatch(r"-?\d+", raw.strip()) else 0
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
                raise ZeroDivisionError
            if isinstance(node.op, ast.Div):
                return int(left / right)
            return int(ops[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp):
            operand = value(node.operand)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.Not):
                return int(not operand)
            if isinstance(node.op, ast.Invert):
                return ~operand
            return operand
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in ops:
            return int(ops[type(node.ops[0])](value(node.left), value(node.comparators[0])))
        if isinstance(node, ast.BoolOp):
            results = [value(v) for v in node.values]
            return int(all(results) if isinstance(node.op, ast.And) else any(results))
        raise ValueError("unsupported")

    return value(ast.parse(text, mode="eval").body)


# ---- shell builtins ------------------------------------------------------------------------------------------


def _b_exit(sh: _Shell, argv: list[str]) -> int:
    code = sh.status
    if len(argv) > 1:
        raw = argv[1]
        if not re.fullmatch(r"-?\d+", raw) or (raw.startswith("-") and sh.dialect == "dash"):
            sh.error(f"exit: Illegal number: {raw}" if sh.dialect != "bash" else f"exit: {raw}: numeric argument "
                     "required")
            raise _Exit(2)
        code = int(raw) & 0xFF
    sh.exited = True
    raise _Exit(code)


def _b_exec(sh: _Shell, argv: list[str]) -> int:
    if len(argv) == 1:
        return 0
    return sh.spawn(argv[1:], {}, exec_=True, builtin="exec")


def _b_true(_sh: _Shell, _argv: list[str]) -> int:
    return 0


def _b_false(_sh: _Shell, _argv: list[str]) -> int:
    return 1


def _b_export(sh: _Shell, argv: list[str]) -> int:
    for arg in argv[1:]:
        if arg == "-p":
            continue
        name, eq, value = arg.partition("=")
        if eq:
            sh.vars[name] = value
        sh.exported.add(name)
    return 0


def _b_unset(sh: _Shell, argv: list[str]) -> int:
    for name in argv[1:]:
        if not name.startswith("-"):
            sh.vars.pop(name, None)
    return 0


def _b_set(sh: _Shell, argv: list[str]) -> int:
    args = argv[1:]
    while args and args[0][:1] in "-+" and args[0] != "--":
        flag = args.pop(0)
        on = flag[0] == "-"
        if flag[1:] == "o" and args:
            option = args.pop(0)
            if option == "errexit":
                sh.errexit = on
            elif option == "xtrace":
                sh.xtrace = on
            continue
        sh.errexit = on if "e" in flag else sh.errexit
        sh.xtrace = on if "x" in flag else sh.xtrace
    if args and args[0] == "--":
        args.pop(0)
    if args or "--" in argv:
        sh.params = args
    return 0


def _b_shift(sh: _Shell, argv: list[str]) -> int:
    count = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if count > len(sh.params):
        return 1
    sh.params = sh.params[count:]
    return 0


def _b_cd(sh: _Shell, argv: list[str]) -> int:
    target = sh.proc.path(argv[1] if len(argv) > 1 else "/root")
    if not sh.world.exists(target):
        sh.error(f"cd: can't cd to {argv[1] if len(argv) > 1 else target}"
                 + (": No such file or directory" if sh.dialect == "ash" else ""))
        return 2 if sh.dialect == "dash" else 1
    sh.proc.cwd = target
    return 0


def _b_trap(sh: _Shell, argv: list[str]) -> int:
    if len(argv) < 3:
        return 0
    action = argv[1]
    for spec in argv[2:]:
        name = spec.upper().removeprefix("SIG")
        signal = int(name) if name.isdigit() else SIGNALS.get(name, 0 if name == "EXIT" else -1)
        if signal < 0:
            sh.error(f"trap: {spec}: bad trap" if sh.dialect != "bash" else f"trap: {spec}: invalid signal "
                     "specification")
            return 1
        if action == "-":
            sh.traps.pop(signal, None)
        else:
            sh.traps[signal] = action
    if sh.proc.pid == 1:
        sh.world.init_shell = sh
    return 0


def _b_wait(sh: _Shell, argv: list[str]) -> int:
    pids = [int(a) for a in argv[1:] if a.isdigit()] or list(sh.jobs)
    status = 0
    for pid in pids:
        if pid not in sh.jobs:
            status = 127
            continue
        end, status = sh.jobs[pid]
        if end is None:
            raise _Forever(prompt=True)  # `wait` is interrupted by a trapped signal at once
        sh.world.t = max(sh.world.t, end)
    return status


def _b_kill(sh: _Shell, argv: list[str]) -> int:
    signal = SIGNALS["TERM"]
    args = argv[1:]
    if args and args[0] == "-l":
        sh.proc.out.write(" ".join(sorted(SIGNALS, key=SIGNALS.__getitem__)))
        return 0
    if args and args[0] == "-s" and len(args) > 1:
        args = ["-" + args[1], *args[2:]]
    if args and args[0].startswith("-") and len(args[0]) > 1:
        spec = args.pop(0)[1:].upper().removeprefix("SIG")
        if spec.isdigit():
            signal = int(spec)
        elif spec in SIGNALS:
            signal = SIGNALS[spec]
        else:
            sh.error(f"kill: invalid signal '{spec}'" if sh.dialect != "bash" else f"kill: {spec}: invalid signal "
                     "specification")
            return 1 if sh.dialect != "dash" else 2
    if not args:
        sh.error("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]"
                 if sh.dialect == "bash" else "kill: usage: kill [-s sigspec | -signum | -sigspec] [pid | job]...")
        return 2 if sh.dialect != "ash" else 1
    status = 0
    for arg in args:
        if not re.fullmatch(r"-?\d+", arg):
            if sh.dialect == "ash":
                sh.proc.err.write(f"{sh.name}: invalid number '{arg}'")
                status = 1
            elif sh.dialect == "bash":
                sh.error(f"kill: {arg}: arguments must be process or job IDs")
                status = 1
            else:
                sh.error(f"kill: Illegal number: {arg}")
                return 2
            continue
        pid = int(arg)
        if pid in (sh.proc.pid, 0):
            if signal in sh.traps:
                sh.run_inline(sh.traps[signal])
            elif sh.proc.pid != 1:
                raise _Signalled(signal)
            # PID 1 of the container's PID namespace: the kernel drops a signal it does not handle.
        elif pid == 1 or pid in sh.jobs:
            end = sh.jobs[pid][0] if pid in sh.jobs else sh.world.t
            if end is None or end > sh.world.t:  # a job still running dies of it (it is not PID 1)
                sh.jobs[pid] = (sh.world.t, 128 + signal)
                sh.world.servers = [replace(s, until=sh.world.t) if s.until is None and s.since <= sh.world.t else s
                                    for s in sh.world.servers]
        else:
            if sh.dialect == "ash":
                sh.proc.err.write(f"{sh.name}: can't kill pid {pid}: No such process")
            elif sh.dialect == "bash":
                sh.error(f"kill: ({pid}) - No such process")
            else:
                sh.error("kill: No such process")
            status = 1
    return status


def _b_read(sh: _Shell, argv: list[str]) -> int:
    lines = sh.proc.read_stdin()
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    if not lines:
        for name in names:
            sh.vars[name] = ""
        return 1
    parts = lines.pop(0).split(maxsplit=len(names) - 1)
    for index, name in enumerate(names):
        sh.vars[name] = parts[index] if index < len(parts) else ""
    return 0


def _b_source(sh: _Shell, argv: list[str]) -> int:
    if len(argv) < 2:
        return 0
    sh.error(sh.cannot_open(argv[1]) if sh.dialect != "bash" else f"{argv[1]}: No such file or directory")
    raise _Exit(2 if sh.dialect != "bash" else 1)


def _b_eval(sh: _Shell, argv: list[str]) -> int:
    return sh.run_inline(" ".join(argv[1:]))


def _b_command(sh: _Shell, argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        for name in args[1:]:
            if name in _BUILTINS:
                sh.proc.out.write(name)
            elif name in sh.world.image.programs:
                sh.proc.out.write(f"/usr/bin/{name}" if not sh.proc.busybox else f"/bin/{name}")
            else:
                return 1
        return 0
    return sh.command(args, {}, last=False) if args else 0


def _shell_utility(fn: Program) -> Callable[[_Shell, list[str]], int]:
    """A utility the shells build in (echo, printf, test, pwd...): it runs in the shell's own process."""
    def builtin(sh: _Shell, argv: list[str]) -> int:
        return fn(sh.proc, argv)

    return builtin


# ---- utilities -----------------------------------------------------------------------------------------------


def _echo(p: _Proc, argv: list[str]) -> int:
    """echo: dash's interprets backslash escapes always, BusyBox's with -e. `-n` makes no difference to a log
    that is written line by line."""
    args = argv[1:]
    escapes = not p.busybox
    while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
        escapes = escapes or "e" in args[0]
        args.pop(0)
    text = " ".join(args)
    if escapes:
        text = text.replace("\\n", "\n").replace("\\t", "\t")
    for line in text.split("\n"):
        p.out.write(line)
    return 0


_PRINTF_FIELD = re.compile(r"%([-0-9]*)([sdi%])")


def _printf(p: _Proc, argv: list[str]) -> int:
    """printf FORMAT ARGS: the format is reused while arguments remain, as POSIX says."""
    if len(argv) < 2:
        p.err.write("printf: missing operand" if not p.busybox else "printf: not enough arguments")
        return 1
    fmt, args = argv[1], argv[2:]
    per_round = sum(1 for m in _PRINTF_FIELD.finditer(fmt) if m.group(2) != "%")
    text = _printf_round(fmt, args[:per_round])
    args = args[per_round:]
    while args and per_round:
        text += _printf_round(fmt, args[:per_round])
        args = args[per_round:]
    text = text.replace("\\n", "\n").replace("\\t", "\t")
    for line in text.rstrip("\n").split("\n") if text else []:
        p.out.write(line)
    return 0


def _printf_round(fmt: str, values: list[str]) -> str:
    remaining = iter(values)

    def field(match: re.Match[str]) -> str:
        if match.group(2) == "%":
            return "%"
        value = next(remaining, "")
        if match.group(2) in "di":
            value = str(int(value)) if re.fullmatch(r"-?\d+", value) else "0"
        width = match.group(1)
        if not width:
            return value
        return value.ljust(int(width[1:] or 0)) if width.startswith("-") else value.rjust(int(width))

    return _PRINTF_FIELD.sub(field, fmt)


def _true(_p: _Proc, _argv: list[str]) -> int:
    return 0


def _false(_p: _Proc, _argv: list[str]) -> int:
    return 1


def _silent(_p: _Proc, _argv: list[str]) -> int:
    """A program the simulation does not model further: it does its work and exits 0."""
    return 0


def _script_or_silent(path: str) -> Program:
    if path.endswith(".py"):
        return _python_script
    return _silent


def _duration(text: str) -> float | None:
    if text in ("infinity", "inf"):
        return FOREVER
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", text)
    if match is None:
        return None
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _sleep(p: _Proc, argv: list[str]) -> int:
    if len(argv) < 2:
        p.err.write("sleep: missing operand" if not p.busybox else "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) "
                    "multi-call binary.")
        if not p.busybox:
            p.err.write("Try 'sleep --help' for more information.")
        return 1
    total = 0.0
    for arg in argv[1:]:
        seconds = _duration(arg)
        if seconds is None:
            if p.busybox:
                p.err.write(f"sleep: invalid number '{arg}'")
            else:
                p.err.write(f"sleep: invalid time interval '{arg}'")
                p.err.write("Try 'sleep --help' for more information.")
            return 1
        total += seconds
    p.sleep(total)
    return 0


def _timeout(p: _Proc, argv: list[str]) -> int:
    """timeout DURATION COMMAND...: the command is killed with SIGTERM once the time is up (status 124 from
    coreutils; BusyBox's timeout is replaced by the command, so the shell sees it die of SIGTERM, 143)."""
    args = _operands(argv[1:], frozenset({"-s", "-k", "--signal", "--kill-after"}))
    limit = _duration(args[0]) if args else None
    if limit is None or len(args) < 2:
        p.err.write("timeout: invalid time interval" if args else "timeout: missing operand")
        return 125 if not p.busybox else 1
    target = p.world.resolve(args[1], p.cwd)
    if target is None:
        p.err.write(f"timeout: failed to run command '{args[1]}': No such file or directory" if not p.busybox
                    else f"timeout: can't execute '{args[1]}': No such file or directory")
        return 127
    world = p.world
    deadline = world.t + limit
    try:
        status = target(p.child(), args[1:])
    except _Forever:
        status = -1
    if status >= 0 and world.t <= deadline:
        return status
    world.t = deadline
    world.logs = [e for e in world.logs if e[0] <= deadline]
    world.file_events = [e for e in world.file_events if e[0] <= deadline]
    return 143 if p.busybox else 124


def _missing_file(p: _Proc, tool: str, path: str, *, action: str = "") -> str:
    if p.busybox:
        return f"{tool}: can't open '{path}': No such file or directory" if not action else (
            f"{tool}: can't {action} '{path}': No such file or directory")
    if action:
        return f"{tool}: cannot {action} '{path}': No such file or directory"
    return f"{tool}: {path}: No such file or directory"


def _cat(p: _Proc, argv: list[str]) -> int:
    files = [a for a in argv[1:] if not a.startswith("-") or a == "-"]
    if not files:
        for line in p.read_stdin():
            p.out.write(line)
        return 0
    status = 0
    for name in files:
        if name != "-" and not p.world.exists(p.path(name)):
            p.err.write(_missing_file(p, "cat", name))
            status = 1
    return status


def _touch(p: _Proc, argv: list[str]) -> int:
    status = 0
    for name in (a for a in argv[1:] if not a.startswith("-")):
        path = p.path(name)
        if not p.world.exists(path.rsplit("/", 1)[0] or "/"):
            p.err.write(f"touch: {name}: No such file or directory" if p.busybox
                        else f"touch: cannot touch '{name}': No such file or directory")
            status = 1
            continue
        p.world.set_file(path, True)
    return status


def _rm(p: _Proc, argv: list[str]) -> int:
    force = any(a.startswith("-") and "f" in a for a in argv[1:])
    status = 0
    for name in (a for a in argv[1:] if not a.startswith("-")):
        path = p.path(name)
        if not p.world.exists(path):
            if not force:
                p.err.write(_missing_file(p, "rm", name, action="remove"))
                status = 1
            continue
        p.world.set_file(path, False)
    return status


def _mkdir(p: _Proc, argv: list[str]) -> int:
    parents = any(a.startswith("-") and "p" in a for a in argv[1:])
    status = 0
    for name in (a for a in argv[1:] if not a.startswith("-")):
        path = p.path(name)
        if not parents and not p.world.exists(path.rsplit("/", 1)[0] or "/"):
            p.err.write(f"mkdir: can't create directory '{name}': No such file or directory" if p.busybox
                        else f"mkdir: cannot create directory '{name}': No such file or directory")
            status = 1
            continue
        p.world.set_file(path, True)
    return status


def _ls(p: _Proc, argv: list[str]) -> int:
    status = 0
    for name in (a for a in argv[1:] if not a.startswith("-")):
        if not p.world.exists(p.path(name)):
            p.err.write(f"ls: {name}: No such file or directory" if p.busybox
                        else f"ls: cannot access '{name}': No such file or directory")
            status = 1 if p.busybox else 2
        else:
            p.out.write(name)
    return status


def _test(p: _Proc, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            p.err.write("[: missing ]" if not p.busybox else "sh: missing ]")
            return 2
        args = args[:-1]
    return 0 if _test_expr(p, args) else 1


def _test_expr(p: _Proc, args: list[str]) -> bool:
    if not args:
        return False
    if args[0] == "!":
        return not _test_expr(p, args[1:])
    if "-a" in args[1:-1]:
        index = args.index("-a", 1)
        return _test_expr(p, args[:index]) and _test_expr(p, args[index + 1 :])
    if "-o" in args[1:-1]:
        index = args.index("-o", 1)
        return _test_expr(p, args[:index]) or _test_expr(p, args[index + 1 :])
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, operand = args
        if op == "-z":
            return operand == ""
        if op == "-n":
            return operand != ""
        if op in ("-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h"):
            return p.world.exists(p.path(operand))
        return False
    left, op, right = args[0], args[1], args[2]
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    numbers = {"-eq": operator.eq, "-ne": operator.ne, "-lt": operator.lt, "-le": operator.le,
               "-gt": operator.gt, "-ge": operator.ge}
    if op in numbers:
        try:
            return bool(numbers[op](int(left), int(right)))
        except ValueError:
            return False
    return False


def _date(p: _Proc, argv: list[str]) -> int:
    when = p.world.started_at + timedelta(seconds=p.world.t)
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "")
    p.out.write(when.strftime(fmt.replace("%N", f"{when.microsecond:06d}000") if fmt else "%a %b %e %H:%M:%S UTC %Y"))
    return 0


def _env(p: _Proc, argv: list[str]) -> int:
    names = argv[1:]
    if argv[0] == "printenv" and names:
        found = [p.env[n] for n in names if n in p.env]
        for value in found:
            p.out.write(value)
        return 0 if len(found) == len(names) else 1
    for key, value in p.env.items():
        p.out.write(f"{key}={value}")
    return 0


def _hostname(p: _Proc, _argv: list[str]) -> int:
    p.out.write(p.env.get("HOSTNAME", "localhost"))
    return 0


def _seq(p: _Proc, argv: list[str]) -> int:
    numbers = [int(a) for a in argv[1:] if re.fullmatch(r"-?\d+", a)]
    first, step, last = (1, 1, numbers[0]) if len(numbers) == 1 else (
        (numbers[0], 1, numbers[1]) if len(numbers) == 2 else (numbers[0], numbers[1], numbers[2]))
    for n in range(first, last + (1 if step > 0 else -1), step or 1):
        p.out.write(str(n))
    return 0


def _grep(p: _Proc, argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if not args:
        return 2
    quiet = any(a.startswith("-") and "q" in a for a in argv[1:])
    matched = [line for line in p.read_stdin() if args[0] in line]
    if not quiet:
        for line in matched:
            p.out.write(line)
    return 0 if matched else 1


def _head(p: _Proc, argv: list[str]) -> int:
    count = next((int(a.lstrip("-n")) for a in argv[1:] if re.fullmatch(r"-n?\d+", a)), 10)
    for line in p.read_stdin()[:count]:
        p.out.write(line)
    return 0


def _tail(p: _Proc, argv: list[str]) -> int:
    if any(a in ("-f", "-F") for a in argv[1:]):
        raise _Forever(pid=p.pid, prompt=False)
    count = next((int(a.lstrip("-n")) for a in argv[1:] if re.fullmatch(r"-n?\d+", a)), 10)
    for line in p.read_stdin()[-count:]:
        p.out.write(line)
    return 0


def _tee(p: _Proc, argv: list[str]) -> int:
    for name in (a for a in argv[1:] if not a.startswith("-")):
        p.world.set_file(p.path(name), True)
    for line in p.read_stdin():
        p.out.write(line)
    return 0


def _wc(p: _Proc, _argv: list[str]) -> int:
    p.out.write(str(len(p.read_stdin())))
    return 0


def _yes(p: _Proc, argv: list[str]) -> int:
    while not p.world.saturated():
        p.out.write(" ".join(argv[1:]) or "y")
    raise _Forever(pid=p.pid, prompt=False)


def _pwd(p: _Proc, _argv: list[str]) -> int:
    p.out.write(p.cwd)
    return 0


def _uname(p: _Proc, argv: list[str]) -> int:
    p.out.write("Linux" if len(argv) == 1 else "Linux 6.8.0-52-generic x86_64")
    return 0


def _id(p: _Proc, argv: list[str]) -> int:
    p.out.write("root" if argv[0] == "whoami" else "uid=0(root) gid=0(root) groups=0(root)")
    return 0


# ---- network clients (for probes and scripts that check their own servers) -----------------------------------


def _local(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]")


def _split_url(url: str) -> tuple[str, str, int, str]:
    match = re.fullmatch(r"(?:(https?)://)?([^/:]+|\[[^\]]+\])(?::(\d+))?(/.*)?", url)
    if match is None:
        return "http", url, 80, "/"
    scheme = match.group(1) or "http"
    port = int(match.group(3)) if match.group(3) else (443 if scheme == "https" else 80)
    return scheme, match.group(2), port, match.group(4) or "/"


def _http_status(world: _World, port: int, path: str) -> int | None:
    """What a server on `port` of this container answers for `path`: None = connection refused, 0 = not HTTP."""
    server = world.listening(port)
    if server is None:
        return None
    if port not in server.http_ports:
        return 0
    if server.unhealthy_after is not None and world.t >= server.unhealthy_after:
        return 500
    bare = path.split("?", 1)[0] or "/"
    return 200 if bare in server.http_paths or "*" in server.http_paths else 404


def _operands(args: list[str], takes_value: frozenset[str]) -> list[str]:
    """The arguments that are not options, skipping the values of options that take one."""
    operands: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-") and arg != "-":
            skip = arg in takes_value
        else:
            operands.append(arg)
    return operands


def _short_flags(args: list[str]) -> str:
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


_WGET_VALUES = frozenset({"-O", "-o", "-T", "-t", "-U", "-P", "--header", "--timeout", "--tries"})
_CURL_VALUES = frozenset({"-o", "-H", "-X", "-d", "-m", "-w", "-u", "-A", "-e", "--max-time", "--connect-timeout",
                          "--retry", "--header", "--data", "--output", "--request", "--user-agent"})
_HTTP_REASONS = {404: "Not Found", 500: "Internal Server Error"}


def _wget(p: _Proc, argv: list[str]) -> int:
    urls = _operands(argv[1:], _WGET_VALUES)
    if not urls:
        p.err.write("wget: missing URL")
        return 1
    _, host, port, path = _split_url(urls[0])
    quiet = "q" in _short_flags(argv[1:]) or "--quiet" in argv
    if not _local(host):
        p.err.write(f"wget: bad address '{host}'" if p.busybox else f"wget: unable to resolve host address '{host}'")
        return 1 if p.busybox else 4
    if not quiet:
        p.err.write(f"Connecting to {host}:{port} (127.0.0.1:{port})")
    status = _http_status(p.world, port, path)
    if status is None:
        p.err.write("wget: can't connect to remote host (127.0.0.1): Connection refused" if p.busybox
                    else "failed: Connection refused.")
        return 1 if p.busybox else 4
    if status == 0:
        p.err.write("wget: error getting response" if p.busybox else "Read error (Connection reset by peer) in "
                    "headers.")
        return 1 if p.busybox else 4
    if status >= 400:
        reason = _HTTP_REASONS.get(status, "Error")
        p.err.write(f"wget: server returned error: HTTP/1.1 {status} {reason}" if p.busybox
                    else f"ERROR {status}: {reason}.")
        return 1 if p.busybox else 8
    return 0


def _curl(p: _Proc, argv: list[str]) -> int:
    urls = _operands(argv[1:], _CURL_VALUES)
    if not urls:
        p.err.write("curl: try 'curl --help' or 'curl --manual' for more information")
        return 2
    _, host, port, path = _split_url(urls[0])
    flags = _short_flags(argv[1:])
    fail = "f" in flags or "--fail" in argv
    report = "s" not in flags or "S" in flags
    if not _local(host):
        if report:
            p.err.write(f"curl: (6) Could not resolve host: {host}")
        return 6
    status = _http_status(p.world, port, path)
    if status is None:
        if report:
            p.err.write(f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server")
        return 7
    if status == 0:
        if report:
            p.err.write("curl: (52) Empty reply from server")
        return 52
    if status >= 400 and fail:
        if report:
            p.err.write(f"curl: (22) The requested URL returned error: {status}")
        return 22
    return 0


def _nc(p: _Proc, argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) < 2 or not args[-1].isdigit():
        return 1
    if not _local(args[-2]):
        p.err.write(f"nc: bad address '{args[-2]}'")
        return 1
    return 0 if p.world.listening(int(args[-1])) else 1


# ---- the images' programs ------------------------------------------------------------------------------------


def _shell(p: _Proc, argv: list[str]) -> int:
    name = argv[0]
    base = name.rsplit("/", 1)[-1]
    dialect = "bash" if base == "bash" else ("ash" if p.busybox else "dash")
    p.world.use_memory(512 * 1024 if p.busybox else MiB)
    args = argv[1:]
    script: str | None = None
    while args and args[0].startswith("-") and args[0] != "-":
        flag = args.pop(0)
        if "c" in flag:
            if not args:
                p.err.write(f"{name}: -c requires an argument" if dialect != "dash"
                            else f"{name}: 0: -c requires an argument")
                return 2
            script = args.pop(0)
        elif flag in ("-e", "-x", "-ex", "-xe", "-eu", "-euo", "-o", "-l", "-i", "-s"):
            continue
    if script is None:
        if args:
            path = p.path(args[0])
            if not p.world.exists(path):
                if dialect == "ash":
                    p.err.write(f"{name}: can't open '{args[0]}': No such file or directory")
                elif dialect == "bash":
                    p.err.write(f"{name}: {args[0]}: No such file or directory")
                    return 127
                else:
                    p.err.write(f"{name}: 0: cannot open {args[0]}: No such file")
                return 2
            raise _Forever(pid=p.pid, prompt=False)  # a script the simulation cannot read: an application
        p.read_stdin()
        return 0
    shell_name = args[0] if args else name
    sh = _Shell(p, shell_name, dialect, args[1:])
    sh.errexit = any("e" in a for a in argv[1:] if a.startswith("-") and "c" not in a)
    return sh.run_script(script)


def _entrypoint(p: _Proc, argv: list[str]) -> int:
    """The official images' docker-entrypoint.sh: set up for their server, then exec the command."""
    image = p.world.image.name
    args = argv[1:]
    if image == "nginx":
        if args and args[0] in ("nginx", "nginx-debug") and not p.env.get("NGINX_ENTRYPOINT_QUIET_LOGS"):
            for line in _NGINX_ENTRYPOINT:
                p.out.write(line)
    elif image == "redis":
        if args and (args[0].startswith("-") or args[0].endswith(".conf")):
            args = ["redis-server", *args]
    elif image == "postgres":
        if args and args[0].startswith("-"):
            args = ["postgres", *args]
        if args and args[0] == "postgres":
            return _postgres_init(p, args)
    if not args:
        return 0
    target = p.world.resolve(args[0], p.cwd)
    if target is None:
        script = argv[0]
        p.err.write(f"{script}: exec: line {_ENTRYPOINT_EXEC_LINE.get(image, 1)}: {args[0]}: not found"
                    if p.busybox else f"{script}: line {_ENTRYPOINT_EXEC_LINE.get(image, 1)}: exec: {args[0]}: "
                    "not found")
        return 127
    return target(p, args)


_ENTRYPOINT_EXEC_LINE = {"nginx": 47, "redis": 24, "postgres": 364}
_NGINX_ENTRYPOINT = (
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
)
_NGINX_WORKERS = 2


def _serve_forever(p: _Proc, server: Server, *, stop_exit_code: int | None,
                   plan: tuple[tuple[str, int, str], ...], memory: int) -> int:
    p.world.serve(server)
    p.world.use_memory(memory, at=server.since)
    p.world.t = max(p.world.t, server.since)
    raise _Forever(stop_exit_code, plan, pid=p.pid)


def _nginx(p: _Proc, argv: list[str]) -> int:
    world = p.world
    version = world.image.version or "1.27.4"
    args = argv[1:]
    if "-v" in args or "-V" in args:
        p.err.write(f"nginx version: nginx/{version}")
        return 0
    config = args[args.index("-c") + 1] if "-c" in args and args.index("-c") + 1 < len(args) else ""
    if config and not world.exists(p.path(config)):
        p.err.write(f'nginx: [emerg] open() "{p.path(config)}" failed (2: No such file or directory)')
        return 1
    if "-t" in args:
        conf = config or "/etc/nginx/nginx.conf"
        p.err.write(f"nginx: the configuration file {conf} syntax is ok")
        p.err.write(f"nginx: configuration file {conf} test is successful")
        return 0
    directives = args[args.index("-g") + 1] if "-g" in args and args.index("-g") + 1 < len(args) else ""
    gcc = "built by gcc 14.2.0 (Alpine 14.2.0)" if world.image.variant == "alpine" else (
        "built by gcc 12.2.0 (Debian 12.2.0-14)")
    notices = ('using the "epoll" event method', f"nginx/{version}", gcc, "OS: Linux 6.8.0-52-generic",
               "getrlimit(RLIMIT_NOFILE): 1048576:1048576")
    start = world.t
    for index, text in enumerate(notices):
        world.t = start + 0.01 * index
        p.err.write(world.stamp("nginx", p.pid, text))
    if not re.search(r"daemon\s+off\s*;", directives):
        return 0  # the master process forks into the background and the foreground process exits
    world.t = start + world.image.startup_seconds
    p.err.write(world.stamp("nginx", p.pid, "start worker processes"))
    workers = [p.pid + 22 + index for index in range(_NGINX_WORKERS)]
    for worker in workers:
        p.err.write(world.stamp("nginx", p.pid, f"start worker process {worker}"))
    plan = (("nginx", p.pid, "signal 3 (SIGQUIT) received, shutting down"),
            *(line for w in workers for line in (("nginx", w, "gracefully shutting down"), ("nginx", w, "exiting"),
                                                 ("nginx", w, "exit"))),
            *(line for w in workers for line in (("nginx", p.pid, f"signal 17 (SIGCHLD) received from {w}"),
                                                 ("nginx", p.pid, f"worker process {w} exited with code 0"))),
            ("nginx", p.pid, "exit"))
    server = Server("nginx", (80,), (80,), world.image.http_paths if world.image.name == "nginx" else frozenset(
        {"/", "/index.html", "/50x.html"}), world.t)
    return _serve_forever(p, server, stop_exit_code=0, plan=plan, memory=_image_memory(world, "nginx", 9 * MiB))


def _image_memory(world: _World, program: str, fallback: int) -> int:
    return world.image.memory if world.image.name == program else fallback


def _redis_server(p: _Proc, argv: list[str]) -> int:
    world = p.world
    version = world.image.version or "7.4.2"
    args = argv[1:]
    if args and not args[0].startswith("-"):
        if not world.exists(p.path(args[0])):
            p.err.write(f"Fatal error, can't open config file '{p.path(args[0])}': No such file or directory")
            return 1
        args = args[1:]
    port = int(_flag(args, "port", "6379")) if _flag(args, "port", "6379").isdigit() else 6379
    start = world.t
    ready = world.image.startup_seconds if world.image.name == "redis" else 0.05
    pid = p.pid
    lines = (
        ("C", "* oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
        ("C", f"* Redis version={version}, bits=64, commit=00000000, modified=0, pid={pid}, just started"),
        ("C", "# Warning: no config file specified, using the default config. In order to specify a config file "
              "use redis-server /path/to/redis.conf" if not argv[1:] or argv[1].startswith("-") else
              "* Configuration loaded"),
        ("M", "* monotonic clock: POSIX clock_gettime"),
        ("M", f"* Running mode=standalone, port={port}."),
        ("M", "* Server initialized"),
        ("M", "* Ready to accept connections tcp"),
    )
    for index, (role, text) in enumerate(lines):
        world.t = start + round(ready * index / (len(lines) - 1), 6)
        p.out.write(world.stamp(f"redis:{role}", pid, text))
    plan = (("redis-signal", pid, "Received SIGTERM scheduling shutdown..."),
            ("redis:M", pid, "* User requested shutdown..."),
            ("redis:M", pid, "* Saving the final RDB snapshot before exiting."),
            ("redis:M", pid, "* DB saved on disk"),
            ("redis:M", pid, "# Redis is now ready to exit, bye bye..."))
    server = Server("redis-server", (port,), (), frozenset(), world.t)
    return _serve_forever(p, server, stop_exit_code=0, plan=plan, memory=_image_memory(world, "redis", 4 * MiB))


def _redis_cli(p: _Proc, argv: list[str]) -> int:
    args = argv[1:]
    port = 6379
    if "-p" in args and args.index("-p") + 1 < len(args) and args[args.index("-p") + 1].isdigit():
        port = int(args[args.index("-p") + 1])
    host = args[args.index("-h") + 1] if "-h" in args and args.index("-h") + 1 < len(args) else "127.0.0.1"
    command = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in
                                                                            ("-h", "-p", "-a", "-n"))]
    if not _local(host) or p.world.listening(port) is None:
        p.err.write(f"Could not connect to Redis at {host}:{port}: Connection refused")
        return 1
    if command[:1] == ["ping"] or command[:1] == ["PING"]:
        p.out.write("PONG")
    elif command:
        p.out.write("OK")
    return 0


def _postgres_init(p: _Proc, args: list[str]) -> int:
    """docker-entrypoint.sh postgres: initialise the empty data directory, then start the server as postgres."""
    world = p.world
    env = p.env
    if not env.get("POSTGRES_PASSWORD") and env.get("POSTGRES_HOST_AUTH_METHOD") != "trust":
        for line in _POSTGRES_NO_PASSWORD:
            p.err.write(line)
        return 1
    version = world.image.version or "17.4"
    start = world.t
    total = world.image.startup_seconds if world.image.name == "postgres" else 1.0
    step = total / 10
    for index, line in enumerate(_postgres_initdb(env.get("POSTGRES_USER", "postgres"))):
        world.t = start + step * 6 * index / 20
        p.out.write(line)
    world.t = start + step * 6
    temp = p.pid + 40
    p.out.write("waiting for server to start...." + world.stamp("postgres", temp, f"LOG:  starting PostgreSQL "
                                                              f"{version} on x86_64-pc-linux-gnu, 64-bit"))
    p.out.write(world.stamp("postgres", temp, 'LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"'))
    p.out.write(world.stamp("postgres", temp, "LOG:  database system is ready to accept connections"))
    p.out.write(" done")
    p.out.write("server started")
    p.out.write("")
    p.out.write("/usr/local/bin/docker-entrypoint.sh: ignoring /docker-entrypoint-initdb.d/*")
    p.out.write("")
    world.t = start + step * 8
    p.out.write("waiting for server to shut down..." + world.stamp("postgres", temp, "LOG:  received fast shutdown "
                                                                   "request"))
    p.out.write(world.stamp("postgres", temp, "LOG:  database system is shut down"))
    p.out.write(" done")
    p.out.write("server stopped")
    p.out.write("")
    p.out.write("PostgreSQL init process complete; ready for start up.")
    p.out.write("")
    return _postgres_server(p, ready_at=start + total)


def _postgres_initdb(user: str) -> tuple[str, ...]:
    return (
        f'The files belonging to this database system will be owned by user "{user}".',
        "This user must also own the server process.",
        "",
        'The database cluster will be initialized with locale "en_US.utf8".',
        'The default database encoding has accordingly been set to "UTF8".',
        'The default text search configuration will be set to "english".',
        "",
        "Data page checksums are disabled.",
        "",
        "fixing permissions on existing directory /var/lib/postgresql/data ... ok",
        "creating subdirectories ... ok",
        "selecting dynamic shared memory implementation ... posix",
        "selecting default \"max_connections\" ... 100",
        "selecting default \"shared_buffers\" ... 128MB",
        "creating configuration files ... ok",
        "running bootstrap script ... ok",
        "performing post-bootstrap initialization ... ok",
        "syncing data to disk ... ok",
        "",
        "Success. You can now start the database server using:",
        "",
        "    pg_ctl -D /var/lib/postgresql/data -l logfile start",
        "",
    )


_POSTGRES_NO_PASSWORD = (
    "Error: Database is uninitialized and superuser password is not specified.",
    "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
    '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
    "",
    '       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all',
    "       connections without a password. This is *not* recommended.",
    "",
    '       See PostgreSQL documentation about "trust":',
    "       https://www.postgresql.org/docs/current/auth-trust.html",
)


def _postgres(p: _Proc, _argv: list[str]) -> int:
    """`postgres` run directly: the container runs as root, which the server refuses (the entrypoint switches
    to the postgres user first)."""
    for line in ('"root" execution of the PostgreSQL server is not permitted.',
                 "The server must be started under an unprivileged user ID to prevent",
                 "possible system security compromise.  See the documentation for",
                 "more information on how to properly start the server."):
        p.err.write(line)
    return 1


def _postgres_server(p: _Proc, *, ready_at: float) -> int:
    world = p.world
    version = world.image.version or "17.4"
    build = f"{version} (Debian {version}-1.pgdg120+2)" if world.image.variant != "alpine" else version
    pid = p.pid
    start = world.t
    step = max(ready_at - start, 0.05) / 5
    lines = (
        f"LOG:  starting PostgreSQL {build} on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, "
        "64-bit",
        'LOG:  listening on IPv4 address "0.0.0.0", port 5432',
        'LOG:  listening on IPv6 address "::", port 5432',
        'LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
    )
    for index, text in enumerate(lines):
        world.t = start + step * index
        p.err.write(world.stamp("postgres", pid, text))
    world.t = start + step * 5
    p.err.write(world.stamp("postgres", pid + 61, "LOG:  database system was shut down at "
                            + f"{world.started_at + timedelta(seconds=start):%Y-%m-%d %H:%M:%S} UTC"))
    p.err.write(world.stamp("postgres", pid, "LOG:  database system is ready to accept connections"))
    plan = (("postgres", pid, "LOG:  received fast shutdown request"),
            ("postgres", pid, "LOG:  aborting any active transactions"),
            ("postgres", pid, 'LOG:  background worker "logical replication launcher" (PID '
                              f"{pid + 66}) exited with exit code 1"),
            ("postgres", pid + 59, "LOG:  shutting down"),
            ("postgres", pid + 59, "LOG:  checkpoint starting: shutdown immediate"),
            ("postgres", pid + 59, "LOG:  checkpoint complete: wrote 3 buffers (0.0%); 0 WAL file(s) added, "
                                   "0 removed, 0 recycled"),
            ("postgres", pid, "LOG:  database system is shut down"))
    server = Server("postgres", (5432,), (), frozenset(), world.t)
    return _serve_forever(p, server, stop_exit_code=0, plan=plan, memory=_image_memory(world, "postgres", 30 * MiB))


def _pg_isready(p: _Proc, argv: list[str]) -> int:
    args = argv[1:]
    host = args[args.index("-h") + 1] if "-h" in args and args.index("-h") + 1 < len(args) else ""
    where = f"{host}:5432" if host else "/var/run/postgresql:5432"
    if (host and not _local(host)) or p.world.listening(5432) is None:
        p.out.write(f"{where} - no response")
        return 2
    p.out.write(f"{where} - accepting connections")
    return 0


def _psql(p: _Proc, _argv: list[str]) -> int:
    if p.world.listening(5432) is None:
        p.err.write('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                    "No such file or directory")
        p.err.write("\tIs the server running locally and accepting connections on that socket?")
        return 2
    return 0


_NETEXEC_PATHS = frozenset({"/", "/clientip", "/dial", "/echo", "/exit", "/header", "/healthz", "/hostname",
                            "/hostName", "/readyz", "/redirect", "/shell", "/shutdown", "/upload"})


def _flag(args: list[str], name: str, default: str) -> str:
    for index, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and index + 1 < len(args):
            return args[index + 1]
    return default


def _agnhost(p: _Proc, argv: list[str]) -> int:
    """The Kubernetes e2e test image: one Go binary, a subcommand per behaviour."""
    world = p.world
    args = argv[1:]
    sub = args[0] if args else ""
    memory = _image_memory(world, "agnhost", 7 * MiB)
    start = world.t
    ready = start + (world.image.startup_seconds if world.image.name == "agnhost" else 0.1)
    if sub == "pause":
        p.out.write("Paused")
        p.world.use_memory(memory)
        raise _Forever(2, (), pid=p.pid)
    if sub in ("netexec", "serve-hostname", "liveness", "test-webserver"):
        port = int(_flag(args, "http-port" if sub == "netexec" else "port", {
            "netexec": "8080", "serve-hostname": "9376", "liveness": "8080", "test-webserver": "80"}[sub]))
        world.t = ready
        if sub == "netexec":
            udp = _flag(args, "udp-port", "8081")
            p.err.write(world.stamp("go", p.pid, f"Started HTTP server on port {port}"))
            p.err.write(world.stamp("go", p.pid, f"Started UDP server on port  {udp}"))
            server = Server("agnhost", (port,), (port,), _NETEXEC_PATHS, ready)
        elif sub == "serve-hostname":
            p.err.write(world.stamp("go", p.pid, f"Serving on port {port}."))
            server = Server("agnhost", (port,), (port,), frozenset({"*"}), ready)
        elif sub == "liveness":
            server = Server("agnhost", (port,), (port,), frozenset({"/healthz", "/redirect"}), ready,
                            unhealthy_after=start + 10.0)
        else:
            p.err.write(world.stamp("go", p.pid, f"Serving on port {port}."))
            server = Server("agnhost", (port,), (port,), frozenset({"/"}), ready)
        return _serve_forever(p, server, stop_exit_code=2, plan=(), memory=memory)
    if not sub:
        p.out.write("Usage:")
        p.out.write("  agnhost [command]")
        return 0
    p.err.write(f'Error: unknown command "{sub}" for "agnhost"')
    p.err.write("Run 'agnhost --help' for usage.")
    return 1


def _stress(p: _Proc, argv: list[str]) -> int:
    """stress(1): forks the workers asked for; `--vm N --vm-bytes B` allocate N x B (default 256M)."""
    args = argv[1:]
    if not args:
        for line in ("`stress' imposes certain types of compute stress on your system", "",
                     "Usage: stress [OPTION [ARG]] ..."):
            p.out.write(line)
        return 0
    counts = {kind: int(_flag(args, kind, "0")) if _flag(args, kind, "0").isdigit() else 0
              for kind in ("cpu", "io", "vm", "hdd")}
    for short, kind in (("-c", "cpu"), ("-i", "io"), ("-m", "vm"), ("-d", "hdd")):
        if short in args and args.index(short) + 1 < len(args) and args[args.index(short) + 1].isdigit():
            counts[kind] = int(args[args.index(short) + 1])
    vm_bytes = _stress_bytes(_flag(args, "vm-bytes", "256M"))
    p.out.write(f"stress: info: [{p.pid}] dispatching hogs: {counts['cpu']} cpu, {counts['io']} io, "
                f"{counts['vm']} vm, {counts['hdd']} hdd")
    p.world.use_memory(MiB + counts["vm"] * vm_bytes, at=p.world.t + ALLOCATION_SECONDS)
    timeout = _duration(_flag(args, "timeout", "") or (args[args.index("-t") + 1] if "-t" in args and
                                                       args.index("-t") + 1 < len(args) else ""))
    if timeout is None or timeout >= FOREVER:
        raise _Forever(pid=p.pid, prompt=False)
    p.world.t += timeout
    p.out.write(f"stress: info: [{p.pid}] successful run completed in {int(timeout)}s")
    return 0


def _stress_bytes(text: str) -> int:
    match = re.fullmatch(r"(\d+)([bBkKmMgG]?)", text)
    if match is None:
        return 256 * MiB
    return int(match.group(1)) * {"": 1, "b": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}[match.group(2).lower()]


# ---- python ---------------------------------------------------------------------------------------------------


class _PyError(Exception):
    """An exception raised by the simulated Python program."""

    def __init__(self, kind: str, message: str, line: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


_PY_STDLIB = frozenset({
    "abc", "argparse", "asyncio", "base64", "collections", "contextlib", "copy", "csv", "ctypes", "dataclasses",
    "datetime", "enum", "functools", "glob", "hashlib", "http", "io", "itertools", "json", "logging", "math", "os",
    "pathlib", "platform", "random", "re", "shutil", "signal", "socket", "socketserver", "string", "subprocess",
    "sys", "tempfile", "threading", "time", "traceback", "typing", "urllib", "uuid",
})
_PY_BUILTIN_ERRORS = frozenset({
    "Exception", "RuntimeError", "ValueError", "KeyError", "TypeError", "OSError", "IOError", "SystemError",
    "ConnectionError", "ConnectionRefusedError", "TimeoutError", "FileNotFoundError", "PermissionError",
    "NotImplementedError", "AssertionError", "ZeroDivisionError", "MemoryError", "ImportError",
    "ModuleNotFoundError", "AttributeError", "NameError", "IndexError", "LookupError", "ArithmeticError",
})


class _Python:
    """`python -c CODE`: enough of Python to run one-liners that print, sleep, raise, exit or crash."""

    def __init__(self, p: _Proc, name: str, *, unbuffered: bool) -> None:
        self.p = p
        self.name = name
        self.unbuffered = unbuffered
        self.names: dict[str, Any] = {}

    def run(self, code: str) -> int:
        try:
            tree = ast.parse(code, "<string>")
        except SyntaxError as err:
            lines = code.splitlines() or [""]
            source = lines[(err.lineno or 1) - 1] if (err.lineno or 1) <= len(lines) else ""
            stripped = source.lstrip()
            caret = max((err.offset or 1) - 1 - (len(source) - len(stripped)), 0)
            for line in (f'  File "<string>", line {err.lineno or 1}', f"    {stripped}", "    " + " " * caret + "^",
                         f"{type(err).__name__}: {err.msg}"):
                self.p.err.write(line)
            return 1
        try:
            self.block(tree.body)
        except _Exit as exited:
            self.p.flush()
            return exited.code
        except _PyError as err:
            self.p.flush()
            self.p.err.write("Traceback (most recent call last):")
            self.p.err.write(f'  File "<string>", line {err.line}, in <module>')
            self.p.err.write(f"{err.kind}: {err.message}" if err.message else err.kind)
            return 1
        self.p.flush()
        return 0

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, stmt: ast.stmt) -> None:
        line = stmt.lineno
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            modules = [stmt.module or ""] if isinstance(stmt, ast.ImportFrom) else [a.name for a in stmt.names]
            for module in modules:
                top = module.split(".")[0]
                if top not in _PY_STDLIB:
                    raise _PyError("ModuleNotFoundError", f"No module named '{top}'", line)
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                full = f"{stmt.module}.{alias.name}" if isinstance(stmt, ast.ImportFrom) else alias.name.split(".")[0]
                self.names[bound] = _Module(full)
        elif isinstance(stmt, ast.Expr):
            self.expr(stmt.value, line)
        elif isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value, line)
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.names[target.id] = value
        elif isinstance(stmt, ast.Raise):
            self.raise_(stmt, line)
        elif isinstance(stmt, ast.While):
            iterations = 0
            while self.expr(stmt.test, line):
                self.block(stmt.body)
                iterations += 1
                if self.p.world.saturated() or iterations >= LOOP_CAP:
                    raise _Forever(pid=self.p.pid, prompt=False)
        elif isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
            for value in self.expr(stmt.iter, line):
                self.names[stmt.target.id] = value
                self.block(stmt.body)
        elif isinstance(stmt, ast.If):
            self.block(stmt.body if self.expr(stmt.test, line) else stmt.orelse)
        elif isinstance(stmt, ast.Assert):
            if not self.expr(stmt.test, line):
                message = self.expr(stmt.msg, line) if stmt.msg is not None else ""
                raise _PyError("AssertionError", str(message), line)
        elif isinstance(stmt, ast.FunctionDef):
            self.names[stmt.name] = stmt

    def raise_(self, stmt: ast.Raise, line: int) -> None:
        exc = stmt.exc
        if exc is None:
            raise _PyError("RuntimeError", "No active exception to reraise", line)
        if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name):
            kind = exc.func.id
            args = [self.expr(a, line) for a in exc.args]
        elif isinstance(exc, ast.Name):
            kind, args = exc.id, []
        else:
            raise _PyError("TypeError", "exceptions must derive from BaseException", line)
        if kind == "SystemExit":
            self.exit(args[0] if args else None)
        if kind not in _PY_BUILTIN_ERRORS and kind not in self.names:
            raise _PyError("NameError", f"name '{kind}' is not defined", line)
        if kind == "KeyError" and args:
            raise _PyError(kind, repr(args[0]), line)
        raise _PyError(kind, ", ".join(str(a) for a in args) if len(args) != 1 else str(args[0]), line)

    def exit(self, value: Any) -> None:
        if value is None:
            raise _Exit(0)
        if isinstance(value, int) and not isinstance(value, bool):
            raise _Exit(value & 0xFF)
        self.p.flush()
        self.p.err.write(str(value))
        raise _Exit(1)

    def write(self, text: str, *, stderr: bool, flush: bool) -> None:
        lines = text.split("\n")
        if stderr:
            for line in lines:
                self.p.err.write(line)
        elif self.unbuffered or flush:
            self.p.flush()
            for line in lines:
                self.p.out.write(line)
        else:
            self.p.pending.extend(lines)

    def expr(self, node: ast.expr, line: int) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in _PY_BUILTINS:
                return _Module(node.id)
            raise _PyError("NameError", f"name '{node.id}' is not defined", line)
        if isinstance(node, ast.JoinedStr):
            return "".join(str(self.expr(v.value, line)) if isinstance(v, ast.FormattedValue) else
                           str(self.expr(v, line)) for v in node.values)
        if isinstance(node, ast.BinOp):
            left, right = self.expr(node.left, line), self.expr(node.right, line)
            try:
                return _PY_OPERATORS[type(node.op)](left, right)
            except ZeroDivisionError:
                raise _PyError("ZeroDivisionError", "division by zero", line) from None
            except (TypeError, KeyError):
                raise _PyError("TypeError", "unsupported operand type(s)", line) from None
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _PY_OPERATORS:
            return _PY_OPERATORS[type(node.ops[0])](self.expr(node.left, line), self.expr(node.comparators[0], line))
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand, line)
            return not operand if isinstance(node.op, ast.Not) else (-operand if isinstance(node.op, ast.USub)
                                                                      else operand)
        if isinstance(node, ast.BoolOp):
            values = [self.expr(v, line) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.List | ast.Tuple):
            return [self.expr(e, line) for e in node.elts]
        if isinstance(node, ast.Attribute):
            base = self.expr(node.value, line)
            if isinstance(base, _Module):
                if base.name == "os" and node.attr == "environ":
                    return _Environ(self.p.env)
                if base.name == "signal" and node.attr.removeprefix("SIG") in SIGNALS:
                    return SIGNALS[node.attr.removeprefix("SIG")]
                if base.name == "sys" and node.attr in ("stdout", "stderr"):
                    return _Module(f"sys.{node.attr}")
                return _Module(f"{base.name}.{node.attr}")
            return None
        if isinstance(node, ast.Subscript):
            base = self.expr(node.value, line)
            key = self.expr(node.slice, line)
            if isinstance(base, _Environ):
                if key not in base.env:
                    raise _PyError("KeyError", repr(key), line)
                return base.env[key]
            try:
                return base[key]
            except (KeyError, IndexError, TypeError) as err:
                raise _PyError(type(err).__name__, str(err), line) from None
        if isinstance(node, ast.Call):
            return self.call(node, line)
        return None

    def call(self, node: ast.Call, line: int) -> Any:
        func = self.expr(node.func, line) if not (isinstance(node.func, ast.Attribute) and isinstance(
            self.expr(node.func.value, line), _Environ)) else None
        args = [self.expr(a, line) for a in node.args]
        kwargs = {k.arg: self.expr(k.value, line) for k in node.keywords if k.arg}
        if func is None and isinstance(node.func, ast.Attribute):
            env = self.p.env
            if node.func.attr == "get":
                return env.get(args[0], args[1] if len(args) > 1 else None)
            return None
        if isinstance(func, ast.FunctionDef):
            self.block(func.body)
            return None
        name = func.name if isinstance(func, _Module) else ""
        if name == "print":
            text = str(kwargs.get("sep", " ")).join(str(a) for a in args)
            stream = kwargs.get("file")
            self.write(text, stderr=isinstance(stream, _Module) and stream.name == "sys.stderr",
                       flush=bool(kwargs.get("flush")))
            return None
        if name in ("sys.exit", "exit", "quit"):
            self.exit(args[0] if args else None)
        if name == "os._exit":
            self.p.pending.clear()
            raise _Exit(int(args[0]) & 0xFF if args else 0)
        if name in ("sys.stdout.write", "sys.stderr.write"):
            self.write(str(args[0]).rstrip("\n"), stderr=name == "sys.stderr.write", flush=False)
            return None
        if name in ("sys.stdout.flush",):
            self.p.flush()
            return None
        if name == "time.sleep":
            self.p.sleep(float(args[0]))
            return None
        if name in ("os.getenv", "os.environ.get"):
            return self.p.env.get(args[0], args[1] if len(args) > 1 else kwargs.get("default"))
        if name == "os.getpid":
            return self.p.pid
        if name == "os.kill":
            pid, signal = int(args[0]), int(args[1])
            if pid == self.p.pid and self.p.pid != 1:
                self.p.flush()
                raise _Signalled(signal)
            return None  # PID 1 without a handler: the kernel drops it
        if name in ("ctypes.string_at", "ctypes.memset", "ctypes.memmove") and args and args[0] in (0, None):
            raise _Signalled(SIGNALS["SEGV"])
        if name == "open":
            path = self.p.path(str(args[0]))
            mode = str(args[1]) if len(args) > 1 else str(kwargs.get("mode", "r"))
            if "r" in mode and not self.p.world.exists(path):
                raise _PyError("FileNotFoundError", f"[Errno 2] No such file or directory: '{args[0]}'", line)
            if "w" in mode or "a" in mode:
                self.p.world.set_file(path, True)
            return None
        if name == "input":
            if self.p.world.stdin:
                raise _Forever(pid=self.p.pid, prompt=False)
            raise _PyError("EOFError", "EOF when reading a line", line)
        if name in _PY_BUILTINS and name not in ("print", "open", "input", "exit", "quit"):
            try:
                return _PY_BUILTINS[name](*args)
            except (ValueError, TypeError) as err:
                raise _PyError(type(err).__name__, str(err), line) from None
        return None


@dataclass(frozen=True)
class _Module:
    name: str


@dataclass(frozen=True)
class _Environ:
    env: Mapping[str, str]


_PY_BUILTINS: dict[str, Callable[..., Any]] = {
    "print": print, "open": open, "input": input, "exit": exit, "quit": quit, "str": str, "int": int,
    "float": float, "len": len, "range": range, "bool": bool, "list": list, "abs": abs, "min": min, "max": max,
    "sum": sum, "repr": repr,
}
_PY_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.Eq: operator.eq,
    ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


def _python(p: _Proc, argv: list[str]) -> int:
    name = argv[0]
    args = argv[1:]
    unbuffered = bool(p.env.get("PYTHONUNBUFFERED"))
    p.world.use_memory(9 * MiB)
    while args and args[0].startswith("-") and args[0] not in ("-c", "-m", "-"):
        unbuffered = unbuffered or "u" in args[0]
        args.pop(0)
    if not args:
        p.read_stdin()
        return 0
    if args[0] == "-c":
        if len(args) < 2:
            p.err.write("Argument expected for the -c option")
            return 2
        return _Python(p, name, unbuffered=unbuffered).run(args[1])
    if args[0] == "-m":
        module = args[1] if len(args) > 1 else ""
        if module == "http.server":
            port = int(args[2]) if len(args) > 2 and args[2].isdigit() else 8000
            line = f"Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ..."
            if unbuffered:
                p.out.write(line)
            server = Server("python", (port,), (port,), frozenset({"/"}), p.world.t + 0.05)
            return _serve_forever(p, server, stop_exit_code=None, plan=(), memory=12 * MiB)
        if module.split(".")[0] in _PY_STDLIB:
            return 0
        p.err.write(f"/usr/local/bin/python3: No module named {module}")
        return 1
    return _python_script(p, [name, *args])


def _python_script(p: _Proc, argv: list[str]) -> int:
    """`python3 app.py`: a script the simulation cannot read runs as an application until stopped."""
    name, script = (argv[0], argv[1]) if argv[0].rsplit("/", 1)[-1].startswith("python") and len(argv) > 1 else (
        "python3", argv[0])
    path = p.path(script)
    if not p.world.exists(path):
        p.err.write(f"{name}: can't open file '{path}': [Errno 2] No such file or directory")
        return 2
    p.world.use_memory(20 * MiB)
    raise _Forever(pid=p.pid, prompt=False)


_PROGRAMS: dict[str, Program] = {
    "sh": _shell, "ash": _shell, "dash": _shell, "bash": _shell, "echo": _echo, "printf": _printf, "true": _true,
    "false": _false, "sleep": _sleep, "cat": _cat, "touch": _touch, "rm": _rm, "mkdir": _mkdir, "ls": _ls,
    "test": _test, "[": _test, "date": _date, "env": _env, "printenv": _env, "hostname": _hostname, "seq": _seq,
    "grep": _grep, "head": _head, "tail": _tail, "tee": _tee, "wc": _wc, "yes": _yes, "pwd": _pwd,
    "uname": _uname, "id": _id, "whoami": _id, "wget": _wget, "curl": _curl, "nc": _nc, "nginx": _nginx,
    "nginx-debug": _nginx, "redis-server": _redis_server, "redis-cli": _redis_cli, "postgres": _postgres,
    "pg_isready": _pg_isready, "psql": _psql, "stress": _stress, "python": _python, "python3": _python,
    "agnhost": _agnhost, "timeout": _timeout,
}

_BUILTINS: dict[str, Callable[[_Shell, list[str]], int]] = {
    "exit": _b_exit, "exec": _b_exec, ":": _b_true, "true": _b_true, "false": _b_false, "export": _b_export,
    "readonly": _b_export, "unset": _b_unset, "set": _b_set, "shift": _b_shift, "cd": _b_cd, "trap": _b_trap,
    "wait": _b_wait, "kill": _b_kill, "read": _b_read, ".": _b_source, "source": _b_source, "eval": _b_eval,
    "command": _b_command, "echo": _shell_utility(_echo), "printf": _shell_utility(_printf),
    "test": _shell_utility(_test), "[": _shell_utility(_test), "pwd": _shell_utility(_pwd),
}
