"""The images a simulated node can pull: a small built-in catalog, and pulling from it as containerd does. Pure.

A real node asks a registry; the simulated one asks `CATALOG`. What a user sees must be what containerd (the CRI
plugin K3s embeds) says, because the kubelet copies it into events verbatim:

* the reference is normalised first (`nginx` -> `docker.io/library/nginx:latest`); one that does not parse never
  reaches the runtime: the kubelet fails it itself with `InvalidImageName` (`InvalidImageName` below);
* a repository that is not in the catalog fails as a missing repository does: Docker Hub answers an anonymous
  pull of it with `insufficient_scope` (gRPC code Unknown), any other registry with a plain `not found`;
* a tag (or digest) the repository does not have fails with gRPC code NotFound and `...: not found`.

A successful pull yields the `Image` specialised to the tag: its software version (which the start-up logs print)
and its variant (`-alpine` tags bring a BusyBox userland instead of Debian's, and a smaller size). The image ID is
`<repository>@sha256:<digest>`, the digest derived from the repository and the variant, so that tags naming the
same build (`nginx:1.27`, `nginx:1.27.4`, `nginx:latest`) share it, as on a registry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from controlplane.registry.image import image_tag

MiB = 1024 * 1024

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_PULL_OVERHEAD_SECONDS = 0.4  # resolving the manifest, before the first layer
_PULL_BYTES_PER_SECOND = 25_000_000  # a 200 Mbit/s uplink

# The userland an image's shell and utilities come from: BusyBox (ash and its applets) or Debian (dash, bash,
# coreutils). They word the same failures differently (`sh: foo: not found` vs `sh: 1: foo: not found`).
BUSYBOX = "busybox"
DEBIAN = "debian"

_BUSYBOX_PROGRAMS = frozenset({
    "[", "ash", "awk", "basename", "cat", "chmod", "cp", "cut", "date", "dd", "df", "dirname", "du", "echo", "env",
    "expr", "false", "find", "free", "grep", "gzip", "head", "hostname", "id", "ip", "kill", "ln", "ls", "mkdir",
    "mv", "nc", "nproc", "nslookup", "ping", "printenv", "printf", "ps", "pwd", "rm", "sed", "seq", "sh", "sleep",
    "sort", "stat", "sync", "tail", "tar", "tee", "test", "timeout", "top", "touch", "tr", "true", "uname", "uniq",
    "usleep", "vi", "watch", "wc", "wget", "which", "whoami", "xargs", "yes",
})
_DEBIAN_PROGRAMS = frozenset({
    "[", "awk", "basename", "bash", "cat", "chmod", "cp", "cut", "dash", "date", "dd", "df", "dirname", "du", "echo",
    "env", "expr", "false", "find", "grep", "gzip", "head", "hostname", "id", "kill", "ln", "ls", "mkdir", "mv",
    "nproc", "perl", "printenv", "printf", "pwd", "rm", "sed", "seq", "sh", "sleep", "sort", "stat", "sync", "tail",
    "tar", "tee", "test", "timeout", "touch", "tr", "true", "uname", "uniq", "wc", "which", "whoami", "xargs", "yes",
})
# Paths every container has: the image's skeleton plus what the runtime and the kubelet mount.
_BASE_PATHS = frozenset({
    "/", "/bin", "/dev", "/dev/null", "/dev/stderr", "/dev/stdout", "/etc", "/etc/group", "/etc/hostname",
    "/etc/hosts", "/etc/os-release", "/etc/passwd", "/etc/resolv.conf", "/home", "/lib", "/mnt", "/opt", "/proc",
    "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
    "/usr/local/bin", "/usr/sbin", "/usr/share", "/var", "/var/log", "/var/run", "/var/tmp",
})


@dataclass(frozen=True)
class Image:
    name: str  # catalog name, e.g. "nginx"
    entrypoint: tuple[str, ...]  # the image's ENTRYPOINT
    cmd: tuple[str, ...]  # the image's CMD
    ports: tuple[int, ...]  # ports its default process listens on
    http_paths: frozenset[str]  # paths answered 200 on those ports (others 404); empty for non-HTTP servers
    startup_seconds: float  # from process start until it listens
    memory: int  # resident bytes of its default process once started
    size: int  # compressed size in bytes (the Pulled event's "Image size: N bytes.")
    stop_exit_code: int | None  # on its stop signal: 0 graceful; None = ignores it (SIGKILL after the grace period)
    tags: frozenset[str]  # tags that exist ("latest" where the repository has it)
    repository: str = ""  # "docker.io/library/nginx"
    version: str = ""  # software version of the pulled tag, printed by its start-up logs: "1.27.4"
    variant: str = ""  # "", "alpine" or "slim"
    userland: str = DEBIAN  # BUSYBOX or DEBIAN: which shell and utilities it has, and how they word errors
    programs: frozenset[str] = frozenset()  # executables found through $PATH
    paths: frozenset[str] = frozenset()  # files and directories that exist, beyond every container's skeleton

    def has_path(self, path: str) -> bool:
        """Whether `path` exists in a fresh container of this image (a directory, file or executable)."""
        return path in _BASE_PATHS or path in self.paths or _on_path(path, self.programs)


def _on_path(path: str, programs: frozenset[str]) -> bool:
    directory, _, name = path.rpartition("/")
    return directory in {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"} and (
        name in programs)


@dataclass(frozen=True)
class Pulled:
    image: Image
    reference: str  # fully qualified, as containerd reports it: "docker.io/library/nginx:1.27"
    image_id: str  # "docker.io/library/nginx@sha256:<64 hex>"


@dataclass(frozen=True)
class PullFailure:
    message: str  # the text after 'Failed to pull image "<img>": ' in the kubelet's event


class InvalidImageName(ValueError):
    """A reference that does not parse. The kubelet never pulls it: the container waits with reason
    `InvalidImageName`, and `str(err)` is the message it shows there and in its `InspectFailed` event."""


@dataclass(frozen=True)
class _Entry:
    image: Image
    variants: Mapping[str, str]  # tag -> build, e.g. "latest" -> "1.27.4", "alpine" -> "1.27.4-alpine"
    sizes: Mapping[str, int] = field(default_factory=dict)  # variant -> size, when it differs


def _entry(image: Image, variants: Mapping[str, str], sizes: Mapping[str, int] | None = None) -> _Entry:
    return _Entry(replace(image, tags=frozenset(variants)), variants, sizes or {})


_NGINX_PATHS = frozenset({
    "/docker-entrypoint.sh", "/docker-entrypoint.d", "/etc/nginx", "/etc/nginx/nginx.conf", "/etc/nginx/conf.d",
    "/etc/nginx/conf.d/default.conf", "/usr/share/nginx/html", "/usr/share/nginx/html/index.html",
    "/usr/share/nginx/html/50x.html", "/var/log/nginx", "/var/cache/nginx",
})

CATALOG: Mapping[str, _Entry] = {
    e.image.repository: e
    for e in (
        _entry(
            Image(name="nginx", entrypoint=("/docker-entrypoint.sh",), cmd=("nginx", "-g", "daemon off;"),
                  ports=(80,), http_paths=frozenset({"/", "/index.html", "/50x.html"}), startup_seconds=0.4,
                  memory=9 * MiB, size=72_188_133, stop_exit_code=0, tags=frozenset(),
                  repository="docker.io/library/nginx",
                  programs=_DEBIAN_PROGRAMS | {"nginx", "nginx-debug", "envsubst", "curl"}, paths=_NGINX_PATHS),
            {"1.25": "1.25.5", "1.25.5": "1.25.5", "1.26": "1.26.3", "1.26.3": "1.26.3", "stable": "1.26.3",
             "1.27": "1.27.4", "1.27.3": "1.27.3", "1.27.4": "1.27.4", "mainline": "1.27.4", "latest": "1.27.4",
             "alpine": "1.27.4-alpine", "1.27-alpine": "1.27.4-alpine", "mainline-alpine": "1.27.4-alpine",
             "1.26-alpine": "1.26.3-alpine", "stable-alpine": "1.26.3-alpine"},
            {"alpine": 20_341_866},
        ),
        _entry(
            Image(name="busybox", entrypoint=(), cmd=("sh",), ports=(), http_paths=frozenset(),
                  startup_seconds=0.0, memory=512 * 1024, size=2_161_430, stop_exit_code=None, tags=frozenset(),
                  repository="docker.io/library/busybox", userland=BUSYBOX, programs=_BUSYBOX_PROGRAMS),
            {"1.36": "1.36.1", "1.36.1": "1.36.1", "1.37": "1.37.0", "1.37.0": "1.37.0", "latest": "1.37.0",
             "stable": "1.37.0", "musl": "1.37.0", "glibc": "1.37.0", "uclibc": "1.37.0"},
        ),
        _entry(
            Image(name="redis", entrypoint=("docker-entrypoint.sh",), cmd=("redis-server",), ports=(6379,),
                  http_paths=frozenset(), startup_seconds=0.1, memory=4 * MiB, size=45_093_582, stop_exit_code=0,
                  tags=frozenset(), repository="docker.io/library/redis",
                  programs=_DEBIAN_PROGRAMS | {"docker-entrypoint.sh", "redis-server", "redis-cli", "gosu"},
                  paths=frozenset({"/data"})),
            {"7": "7.4.2", "7.2": "7.2.7", "7.2.7": "7.2.7", "7.4": "7.4.2", "7.4.2": "7.4.2", "latest": "7.4.2",
             "bookworm": "7.4.2", "alpine": "7.4.2-alpine", "7-alpine": "7.4.2-alpine",
             "7.4-alpine": "7.4.2-alpine"},
            {"alpine": 17_563_907},
        ),
        _entry(
            Image(name="postgres", entrypoint=("docker-entrypoint.sh",), cmd=("postgres",), ports=(5432,),
                  http_paths=frozenset(), startup_seconds=3.5, memory=30 * MiB, size=158_643_713, stop_exit_code=0,
                  tags=frozenset(), repository="docker.io/library/postgres",
                  programs=_DEBIAN_PROGRAMS | {"docker-entrypoint.sh", "postgres", "psql", "pg_ctl", "initdb",
                                               "pg_isready", "gosu"},
                  paths=frozenset({"/var/lib/postgresql", "/var/lib/postgresql/data", "/docker-entrypoint-initdb.d",
                                   "/var/run/postgresql"})),
            {"15": "15.12", "15.12": "15.12", "16": "16.8", "16.8": "16.8", "17": "17.4", "17.4": "17.4",
             "latest": "17.4", "bookworm": "17.4", "alpine": "17.4-alpine", "17-alpine": "17.4-alpine",
             "16-alpine": "16.8-alpine"},
            {"alpine": 105_337_260},
        ),
        _entry(
            Image(name="python", entrypoint=(), cmd=("python3",), ports=(), http_paths=frozenset(),
                  startup_seconds=0.0, memory=9 * MiB, size=385_004_811, stop_exit_code=None, tags=frozenset(),
                  repository="docker.io/library/python",
                  programs=_DEBIAN_PROGRAMS | {"python", "python3", "pip", "pip3"}),
            {"3": "3.13.2", "3.11": "3.11.11", "3.12": "3.12.9", "3.12.9": "3.12.9", "3.13": "3.13.2",
             "3.13.2": "3.13.2", "latest": "3.13.2", "slim": "3.13.2-slim", "3.12-slim": "3.12.9-slim",
             "3.13-slim": "3.13.2-slim", "alpine": "3.13.2-alpine", "3.12-alpine": "3.12.9-alpine",
             "3.13-alpine": "3.13.2-alpine"},
            {"slim": 45_318_201, "alpine": 18_733_118},
        ),
        _entry(
            Image(name="polinux/stress", entrypoint=(), cmd=("stress",), ports=(), http_paths=frozenset(),
                  startup_seconds=0.0, memory=1 * MiB, size=4_041_476, stop_exit_code=None, tags=frozenset(),
                  repository="docker.io/polinux/stress", userland=BUSYBOX,
                  programs=_BUSYBOX_PROGRAMS | {"bash", "stress"}),
            {"latest": "1.0.4", "1.0.4": "1.0.4"},
        ),
        _entry(
            Image(name="agnhost", entrypoint=("/agnhost",), cmd=("pause",), ports=(), http_paths=frozenset(),
                  startup_seconds=0.1, memory=7 * MiB, size=51_202_107, stop_exit_code=2, tags=frozenset(),
                  repository="registry.k8s.io/e2e-test-images/agnhost", userland=BUSYBOX,
                  programs=_BUSYBOX_PROGRAMS | {"bash", "curl"},
                  paths=frozenset({"/agnhost", "/agnhost-2", "/uploads"})),
            {"2.39": "2.39", "2.40": "2.40", "2.43": "2.43", "2.47": "2.47", "2.52": "2.52", "2.53": "2.53"},
        ),
    )
}


def normalize(reference: str) -> str:
    """The reference as containerd names it: registry host, full path, and `:tag` (`latest` by default) or
    `@digest` (a tag given with a digest is dropped). Raises `InvalidImageName` for one that does not parse."""
    if image_tag(reference) is None:
        raise InvalidImageName(_invalid(reference))
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    host, path = _split_host(name)
    if host in _DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if digest:
        return f"{host}/{path}@{digest}"
    return f"{host}/{path}:{tag or 'latest'}"


def _split_host(name: str) -> tuple[str, str]:
    """(registry host, path) as distribution splits them: the first component is a host when it has a dot or a
    colon, is `localhost`, or has upper case (paths may not); otherwise the host is Docker Hub."""
    first, slash, rest = name.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        return first, rest
    return DOCKER_HUB, name


def _invalid(reference: str) -> str:
    """The kubelet's message, with distribution's reason: it splits off the registry host (a first component
    with a dot or colon, `localhost`, or any upper case) and complains about upper case in the rest first."""
    if re.fullmatch("[a-f0-9]{64}", reference):
        detail = f"invalid repository name ({reference}), cannot specify 64-byte hexadecimal strings"
    else:
        host, remote = _split_host(reference)
        if host == DOCKER_HUB and "/" not in remote:
            remote = f"library/{remote}"
        remote = remote.partition(":")[0]
        detail = "invalid reference format"
        if remote.lower() != remote:
            detail += f": repository name ({remote}) must be lowercase"
    return f'Failed to apply default image tag "{reference}": couldn\'t parse image name "{reference}": {detail}'


def _digest(repository: str, build: str) -> str:
    return "sha256:" + hashlib.sha256(f"{repository}:{build}".encode()).hexdigest()


def pull(reference: str) -> Pulled | PullFailure:
    """Pull `reference` from the catalog; raises `InvalidImageName` for one that does not parse."""
    full = normalize(reference)
    at = full.find("@")
    repository = full[:at] if at >= 0 else full[: full.rfind(":")]
    entry = CATALOG.get(repository)
    if entry is None:
        if repository.startswith(DOCKER_HUB + "/"):
            return PullFailure(
                f'rpc error: code = Unknown desc = failed to pull and unpack image "{full}": failed to resolve '
                f'reference "{full}": pull access denied, repository does not exist or may require authorization: '
                "server message: insufficient_scope: authorization failed")
        return _not_found(full)
    if at >= 0:
        wanted = full[at + 1 :]
        builds = [b for b in entry.variants.values() if _digest(repository, b) == wanted]
        if not _DIGEST.fullmatch(wanted) or not builds:
            return _not_found(full)
        build = builds[0]
    else:
        build = entry.variants.get(full[full.rfind(":") + 1 :], "")
        if not build:
            return _not_found(full)
    return Pulled(image=_specialise(entry, build), reference=full,
                  image_id=f"{repository}@{_digest(repository, build)}")


def _not_found(full: str) -> PullFailure:
    return PullFailure(f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": failed to '
                       f'resolve reference "{full}": {full}: not found')


def _specialise(entry: _Entry, build: str) -> Image:
    version, _, variant = build.partition("-")
    image = replace(entry.image, version=version, variant=variant, size=entry.sizes.get(variant, entry.image.size))
    if variant == "alpine" and image.userland != BUSYBOX:
        extra = image.programs - _DEBIAN_PROGRAMS
        image = replace(image, userland=BUSYBOX, programs=_BUSYBOX_PROGRAMS | extra)
    return image


def pull_seconds(image: Image) -> float:
    """How long pulling `image` takes: a fixed overhead for resolving it, then its size at 25 MB/s."""
    return round(_PULL_OVERHEAD_SECONDS + image.size / _PULL_BYTES_PER_SECOND, 3)
