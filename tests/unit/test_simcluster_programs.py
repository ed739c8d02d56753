"""What one start of a container does: the process the runtime starts, what it logs, whether it serves, how it
ends and with which exit code, as a real K3s node (containerd, runc) would show it.

Facts pinned here come from the Kubernetes docs (command/args vs ENTRYPOINT/CMD, `$(VAR)` expansion with `$$`
escaping), runc (the exec error of a missing executable), the Linux PID-namespace rules (PID 1 gets no signal
it does not handle), and the wording of BusyBox ash, dash and bash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simcluster import images
from simcluster.images import MiB
from simcluster.programs import FOREVER, LOG_CAP, Run, command_line, exec_in, run

START_ERROR = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
               "failed: unable to start container process: error during container init: ")


def image(reference: str) -> images.Image:
    pulled = images.pull(reference)
    assert isinstance(pulled, images.Pulled), pulled
    return pulled.image


def start(reference: str, *, env: dict[str, str] | None = None, limit: int | None = None, **container: Any) -> Run:
    return run(image(reference), {"name": "c", "image": reference, **container}, env or {}, limit)


def sh(script: str, reference: str = "busybox:1.36", **kwargs: Any) -> Run:
    return start(reference, command=["sh", "-c", script], **kwargs)


def lines(result: Run) -> list[str]:
    return [line for _, line in result.logs]


def everything(result: Run) -> list[str]:
    return lines(result) + list(result.last_words)


# ---- the command line: command, args, ENTRYPOINT, CMD ----------------------------------------------------------


def test_no_command_and_no_args_runs_the_image_entrypoint_with_its_cmd() -> None:
    assert command_line(image("nginx:1.27"), {}, {}) == ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]


def test_args_alone_replace_the_cmd_and_keep_the_entrypoint() -> None:
    assert command_line(image("nginx:1.27"), {"args": ["nginx", "-t"]}, {}) == ["/docker-entrypoint.sh", "nginx",
                                                                                  "-t"]


def test_command_alone_replaces_the_entrypoint_and_drops_the_cmd() -> None:
    assert command_line(image("nginx:1.27"), {"command": ["sleep", "5"]}, {}) == ["sleep", "5"]


def test_command_and_args_replace_both() -> None:
    assert command_line(image("busybox:1.36"), {"command": ["sh", "-c"], "args": ["echo hi"]}, {}) == [
        "sh", "-c", "echo hi"]


def test_variable_references_are_expanded_from_the_environment_and_unknown_ones_kept() -> None:
    argv = command_line(image("busybox:1.36"), {"command": ["echo", "$(GREETING)", "$(MISSING)"]},
                        {"GREETING": "hello"})
    assert argv == ["echo", "hello", "$(MISSING)"]


def test_a_doubled_dollar_reaches_the_process_as_one() -> None:
    argv = command_line(image("busybox:1.36"), {"command": ["sh", "-c", "echo $$$$ $$(HOME)"]}, {"HOME": "/x"})
    assert argv == ["sh", "-c", "echo $$ $(HOME)"]


def test_args_see_the_expanded_environment_too() -> None:
    result = start("busybox:1.36", command=["echo"], args=["mode=$(MODE)"], env={"MODE": "fast"})
    assert lines(result) == ["mode=fast"]


# ---- each image's own process --------------------------------------------------------------------------------


def test_nginx_runs_its_entrypoint_scripts_then_serves_port_80() -> None:
    result = start("nginx:1.27")
    text = lines(result)
    assert text[0] == ("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform "
                       "configuration")
    assert "/docker-entrypoint.sh: Configuration complete; ready for start up" in text
    assert any(line.endswith("[notice] 1#1: nginx/1.27.4") for line in text)
    assert any(line.endswith("[notice] 1#1: start worker processes") for line in text)
    assert result.listens and result.ends_after is None
    assert result.startup_seconds == pytest.approx(0.4)
    assert result.servers[0].ports == (80,) and "/" in result.servers[0].http_paths
    assert result.memory == 9 * MiB


def test_nginx_stops_gracefully_on_its_stop_signal() -> None:
    result = start("nginx:1.27")
    assert result.stop_exit_code == 0
    assert result.stop_words[0].endswith("[notice] 1#1: signal 3 (SIGQUIT) received, shutting down")
    assert result.stop_words[-1].endswith("[notice] 1#1: exit")


def test_nginx_alpine_says_its_alpine_build() -> None:
    assert any("built by gcc 14.2.0 (Alpine 14.2.0)" in line for line in lines(start("nginx:alpine")))


def test_nginx_without_daemon_off_forks_into_the_background_and_the_container_completes() -> None:
    result = start("nginx:1.27", command=["nginx"])
    assert (result.exit_code, result.reason, result.listens) == (0, "Completed", False)


def test_nginx_with_a_missing_config_file_fails() -> None:
    result = start("nginx:1.27", command=["nginx", "-c", "/etc/nginx/custom.conf"])
    assert result.exit_code == 1
    assert result.last_words == (
        'nginx: [emerg] open() "/etc/nginx/custom.conf" failed (2: No such file or directory)',)


def test_nginx_config_test_succeeds() -> None:
    result = start("nginx:1.27", args=["nginx", "-t"])
    assert result.exit_code == 0
    assert "nginx: configuration file /etc/nginx/nginx.conf test is successful" in lines(result)


def test_redis_serves_6379_once_ready_to_accept_connections() -> None:
    result = start("redis:7.4")
    text = lines(result)
    assert text[0].startswith("1:C ") and text[0].endswith("* oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
    assert "Redis version=7.4.2" in text[1]
    assert text[-1].startswith("1:M ") and text[-1].endswith("* Ready to accept connections tcp")
    assert result.servers[0].ports == (6379,) and result.servers[0].http_ports == ()
    assert result.startup_seconds == pytest.approx(0.1)
    assert result.stop_exit_code == 0
    assert result.stop_words[-1].endswith("# Redis is now ready to exit, bye bye...")


def test_redis_args_that_are_options_go_to_redis_server() -> None:
    result = start("redis:7.4", args=["--port", "7000"])
    assert result.servers[0].ports == (7000,)
    assert any("Running mode=standalone, port=7000." in line for line in lines(result))


def test_redis_with_a_config_file_that_is_not_there_fails() -> None:
    result = start("redis:7.4", args=["/usr/local/etc/redis/redis.conf"])
    assert result.exit_code == 1
    assert result.last_words == ("Fatal error, can't open config file '/usr/local/etc/redis/redis.conf': No such "
                                 "file or directory",)


def test_redis_config_file_on_a_mounted_volume_is_read() -> None:
    result = start("redis:7.4", args=["/usr/local/etc/redis/redis.conf"],
                   volumeMounts=[{"name": "conf", "mountPath": "/usr/local/etc/redis"}])
    assert result.listens


def test_postgres_without_a_password_exits_1_with_the_entrypoint_error() -> None:
    result = start("postgres:16")
    assert (result.exit_code, result.reason, result.listens) == (1, "Error", False)
    assert result.last_words[0] == "Error: Database is uninitialized and superuser password is not specified."
    assert any("POSTGRES_HOST_AUTH_METHOD=trust" in line for line in result.last_words)


def test_postgres_with_a_password_initialises_then_accepts_connections() -> None:
    result = start("postgres:16", env={"POSTGRES_PASSWORD": "s3cret"})
    text = lines(result)
    assert text[0] == 'The files belonging to this database system will be owned by user "postgres".'
    assert "PostgreSQL init process complete; ready for start up." in text
    assert any("LOG:  starting PostgreSQL 16.8" in line for line in text)
    assert text[-1].endswith("[1] LOG:  database system is ready to accept connections")
    assert result.startup_seconds == pytest.approx(3.5)
    assert result.servers[0].ports == (5432,)
    assert result.stop_exit_code == 0
    assert result.stop_words[-1].endswith("LOG:  database system is shut down")


def test_postgres_trust_auth_needs_no_password() -> None:
    assert start("postgres:17", env={"POSTGRES_HOST_AUTH_METHOD": "trust"}).listens


def test_postgres_started_directly_refuses_to_run_as_root() -> None:
    result = start("postgres:16", command=["postgres"], env={"POSTGRES_PASSWORD": "x"})
    assert result.exit_code == 1
    assert result.last_words[0] == '"root" execution of the PostgreSQL server is not permitted.'


def test_busybox_default_shell_without_a_terminal_exits_0_at_once() -> None:
    result = start("busybox:1.36")
    assert (result.exit_code, result.reason, result.ends_after) == (0, "Completed", 0.0)


def test_a_shell_with_stdin_open_waits_for_input() -> None:
    result = start("busybox:1.36", stdin=True)
    assert result.ends_after is None and result.stop_exit_code is None


def test_python_default_repl_without_a_terminal_exits_0() -> None:
    result = start("python:3.13")
    assert (result.exit_code, result.reason) == (0, "Completed")


def test_stress_without_options_prints_its_usage() -> None:
    result = start("polinux/stress")
    assert result.exit_code == 0
    assert lines(result)[0] == "`stress' imposes certain types of compute stress on your system"


def test_stress_allocates_what_its_vm_workers_are_told() -> None:
    result = start("polinux/stress", command=["stress"], args=["--vm", "2", "--vm-bytes", "150M", "--vm-hang", "1"])
    assert lines(result) == ["stress: info: [1] dispatching hogs: 0 cpu, 0 io, 2 vm, 0 hdd"]
    assert result.memory == MiB + 2 * 150 * MiB
    assert result.ends_after is None


def test_stress_with_a_timeout_completes() -> None:
    result = start("polinux/stress", command=["stress", "--cpu", "1", "--timeout", "60s"])
    assert (result.exit_code, result.ends_after) == (0, 60.0)
    assert lines(result)[-1] == "stress: info: [1] successful run completed in 60s"


def test_agnhost_default_pauses_until_stopped_and_exits_2_as_go_programs_do() -> None:
    result = start("registry.k8s.io/e2e-test-images/agnhost:2.40")
    assert lines(result) == ["Paused"]
    assert (result.ends_after, result.stop_exit_code, result.listens) == (None, 2, False)


def test_agnhost_netexec_serves_its_http_port() -> None:
    result = start("registry.k8s.io/e2e-test-images/agnhost:2.40", args=["netexec", "--http-port=8080"])
    server = result.servers[0]
    assert server.ports == (8080,) and server.http_ports == (8080,)
    assert {"/healthz", "/hostname", "/echo"} <= server.http_paths
    assert any(line.endswith("Started HTTP server on port 8080") for line in lines(result))


def test_agnhost_serve_hostname_serves_9376() -> None:
    result = start("registry.k8s.io/e2e-test-images/agnhost:2.40", args=["serve-hostname"])
    assert result.servers[0].ports == (9376,)


def test_agnhost_liveness_turns_unhealthy_after_10_seconds() -> None:
    result = start("registry.k8s.io/e2e-test-images/agnhost:2.40", args=["liveness"])
    assert result.servers[0].ports == (8080,) and result.servers[0].unhealthy_after == 10.0


def test_agnhost_unknown_subcommand_fails_like_cobra() -> None:
    result = start("registry.k8s.io/e2e-test-images/agnhost:2.40", args=["frobnicate"])
    assert result.exit_code == 1
    assert result.last_words == ('Error: unknown command "frobnicate" for "agnhost"', "Run 'agnhost --help' for usage.")


# ---- start errors ---------------------------------------------------------------------------------------------


def test_a_program_the_image_lacks_cannot_start() -> None:
    result = start("busybox:1.36", command=["foo"])
    assert (result.exit_code, result.reason, result.ends_after) == (128, "StartError", 0.0)
    assert result.message == START_ERROR + 'exec: "foo": executable file not found in $PATH: unknown'
    assert result.logs == () and result.last_words == ()


def test_a_path_that_does_not_exist_cannot_start() -> None:
    result = start("python:3.13", command=["/app/server"])
    assert result.message == START_ERROR + 'exec: "/app/server": stat /app/server: no such file or directory: unknown'


def test_bash_in_busybox_cannot_start() -> None:
    result = start("busybox:1.36", command=["bash", "-c", "echo hi"])
    assert result.reason == "StartError" and '"bash"' in result.message


def test_args_for_an_entrypoint_script_that_lacks_the_program_fail_inside_the_script() -> None:
    result = start("nginx:1.27", args=["frobnicate"])
    assert (result.exit_code, result.reason) == (127, "Error")
    assert result.last_words == ("/docker-entrypoint.sh: line 47: exec: frobnicate: not found",)


# ---- exit codes from ordinary manifests -----------------------------------------------------------------------


def test_exit_0_when_the_script_finishes() -> None:
    result = sh("echo all work done")
    assert (result.exit_code, result.reason, lines(result)) == (0, "Completed", ["all work done"])


def test_exit_1_with_the_last_stderr_lines_as_last_words() -> None:
    result = sh("echo connecting to db; echo 'fatal: cannot reach db:5432' >&2; exit 1")
    assert (result.exit_code, result.reason) == (1, "Error")
    assert lines(result) == ["connecting to db"]
    assert result.last_words == ("fatal: cannot reach db:5432",)


@pytest.mark.parametrize(("script", "code"), [("exit 255", 255), ("exit 256", 0), ("exit -1", 255), ("false", 1),
                                              ("exit 139", 139), ("exit 143", 143), ("true", 0)])
def test_exit_status_is_taken_modulo_256(script: str, code: int) -> None:
    assert sh(script).exit_code == code


def test_dash_refuses_a_negative_exit_status() -> None:
    result = sh("exit -1", "nginx:1.27")
    assert result.exit_code == 2
    assert result.last_words == ("sh: 1: exit: Illegal number: -1",)


def test_the_script_ends_with_the_status_of_its_last_command() -> None:
    assert sh("echo x; false").exit_code == 1


def test_an_unknown_command_is_127_in_busybox_wording() -> None:
    result = sh("foo")
    assert result.exit_code == 127
    assert result.last_words == ("sh: foo: not found",)


def test_an_unknown_command_is_127_in_dash_wording() -> None:
    assert sh("foo", "nginx:1.27").last_words == ("sh: 1: foo: not found",)


def test_an_unknown_command_names_its_line_in_dash() -> None:
    assert sh("echo a\nfoo", "python:3.13").last_words == ("sh: 2: foo: not found",)


def test_an_unknown_command_in_bash() -> None:
    result = start("python:3.13", command=["bash", "-c", "foo"])
    assert result.last_words == ("bash: line 1: foo: command not found",)


def test_the_shell_name_comes_from_argv0() -> None:
    assert start("busybox:1.36", command=["/bin/sh", "-c", "foo"]).last_words == ("/bin/sh: foo: not found",)


def test_a_failed_command_does_not_end_the_script() -> None:
    result = sh("foo; echo status=$?")
    assert (result.exit_code, lines(result)) == (0, ["sh: foo: not found", "status=127"])


def test_set_e_ends_the_script_at_the_first_failure() -> None:
    result = sh("set -e; echo before; false; echo after")
    assert (result.exit_code, lines(result)) == (1, ["before"])


def test_set_e_does_not_apply_to_conditions() -> None:
    assert lines(sh("set -e; false || echo recovered; if false; then :; fi; echo end")) == ["recovered", "end"]


def test_kill_dollar_dollar_in_a_manifest_reaches_the_shell_as_a_lone_dollar() -> None:
    # The kubelet turns `$$` into `$`, so BusyBox's kill gets "$": not a pid.
    result = sh("echo loading native extension; kill -SEGV $$")
    assert (result.exit_code, result.reason) == (1, "Error")
    assert lines(result) == ["loading native extension"]
    assert result.last_words == ("sh: invalid number '$'",)


def test_kill_of_a_lone_dollar_in_dash() -> None:
    result = sh("kill -TERM $$", "nginx:1.27")
    assert result.exit_code == 2
    assert result.last_words == ("sh: 1: kill: Illegal number: $",)


@pytest.mark.parametrize("signal", ["-SEGV", "-11", "-TERM", "-15", "-9", "-KILL"])
def test_pid_1_cannot_kill_itself_with_a_signal_it_does_not_handle(signal: str) -> None:
    result = sh(f"kill {signal} $$$$; echo still here")
    assert (result.exit_code, lines(result)) == (0, ["still here"])


@pytest.mark.parametrize(("signal", "code", "words"), [("-SEGV", 139, "Segmentation fault"),
                                                       ("-11", 139, "Segmentation fault"),
                                                       ("-TERM", 143, "Terminated"), ("-KILL", 137, "Killed"),
                                                       ("-9", 137, "Killed")])
def test_a_child_shell_killed_by_a_signal_exits_128_plus_it(signal: str, code: int, words: str) -> None:
    result = sh(f"echo loading native extension; sh -c 'kill {signal} $$$$'; exit $?")
    assert (result.exit_code, result.reason) == (code, "Error")
    assert result.last_words == (words,)


def test_a_python_segfault_exits_139_without_last_words() -> None:
    result = start("python:3.13", command=["python3", "-c", "import ctypes; ctypes.string_at(0)"])
    assert (result.exit_code, result.reason, result.last_words) == (139, "Error", ())


def test_a_wrapper_script_reports_its_childs_segfault() -> None:
    result = sh("python3 -c 'import ctypes; ctypes.string_at(0)'; exit $?", "python:3.13")
    assert (result.exit_code, result.last_words) == (139, ("Segmentation fault",))


def test_a_trap_on_the_stop_signal_sets_the_exit_code_on_stop() -> None:
    result = sh("trap 'echo caught SIGTERM; exit 143' TERM; while true; do sleep 1; done")
    assert (result.ends_after, result.stop_exit_code, result.stop_words) == (None, 143, ("caught SIGTERM",))


def test_a_trap_cannot_run_while_the_shell_waits_for_a_long_foreground_sleep() -> None:
    result = sh("trap 'exit 0' TERM; sleep 3600")
    assert result.stop_exit_code is None


def test_a_trap_that_returns_leaves_the_signal_without_effect() -> None:
    assert sh("trap 'echo ignoring' TERM; while true; do sleep 1; done").stop_exit_code is None


def test_wait_is_interrupted_by_a_trapped_signal() -> None:
    result = sh("trap 'exit 0' TERM; sleep 3600 & wait")
    assert (result.ends_after, result.stop_exit_code) == (3600.0, 0)


def test_a_trap_set_before_exec_is_gone_with_the_shell() -> None:
    assert sh("trap 'exit 0' TERM; exec sleep 100").stop_exit_code is None


def test_the_classic_liveness_script_ignores_sigterm_so_a_liveness_kill_ends_in_137() -> None:
    assert sh("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600").stop_exit_code is None


def test_a_trap_on_sigterm_runs_when_the_shell_signals_itself() -> None:
    result = sh("trap 'echo bye; exit 143' TERM; kill -TERM $$$$; echo unreachable")
    assert (result.exit_code, lines(result) + list(result.last_words)) == (143, ["bye"])


def test_waiting_for_a_job_killed_by_sigterm_gives_143() -> None:
    assert sh("sleep 60 & kill -TERM $!; wait $!").exit_code == 143


# ---- what PID 1 does on the stop signal -----------------------------------------------------------------------


def test_sleep_as_pid_1_ignores_sigterm() -> None:
    result = start("busybox:1.36", command=["sleep", "3600"])
    assert (result.ends_after, result.stop_exit_code) == (3600.0, None)


def test_sleep_infinity_runs_until_stopped() -> None:
    assert start("busybox:1.36", command=["sleep", "infinity"]).ends_after is None


def test_a_shell_waiting_on_its_child_ignores_sigterm() -> None:
    assert sh("echo start; sleep infinity").stop_exit_code is None


def test_the_last_command_replaces_the_shell_so_a_trailing_server_is_pid_1() -> None:
    result = sh("echo configuring; nginx -g 'daemon off;'", "nginx:1.27")
    assert result.listens and result.stop_exit_code == 0
    assert lines(result)[0] == "configuring"
    assert result.stop_words[0].endswith("1#1: signal 3 (SIGQUIT) received, shutting down")


def test_exec_makes_the_server_pid_1() -> None:
    result = sh("exec nginx -g 'daemon off;'\necho never", "nginx:1.27")
    assert result.listens and result.stop_exit_code == 0 and "never" not in lines(result)


def test_a_server_started_in_the_background_listens_but_the_shell_is_pid_1() -> None:
    result = sh("redis-server & sleep infinity", "redis:7.4")
    assert result.listens and result.stop_exit_code is None


def test_exec_of_a_missing_program_ends_the_shell_with_127() -> None:
    result = sh("exec foo; echo never")
    assert (result.exit_code, result.last_words) == (127, ("sh: exec: foo: not found",))


def test_stop_words_are_restamped_for_the_time_of_the_stop() -> None:
    result = start("nginx:1.27")
    assert result.stop_log(3723.0)[0].startswith("2025/01/01 01:02:03 [notice]")


# ---- shell forms -----------------------------------------------------------------------------------------------


def test_sleep_advances_the_time_of_later_lines() -> None:
    result = sh("echo one; sleep 2; echo two; sleep 0.5; echo three")
    assert result.logs == ((0.0, "one"), (2.0, "two"), (2.5, "three"))
    assert result.ends_after == 2.5


def test_and_or_lists() -> None:
    assert lines(sh("true && echo a; false && echo b; false || echo c; true || echo d")) == ["a", "c"]


def test_newlines_separate_commands() -> None:
    assert lines(sh("echo a\necho b\n\necho c")) == ["a", "b", "c"]


def test_stderr_redirection_still_reaches_the_log() -> None:
    assert lines(sh("echo oops >&2; echo fine 1>&2; echo both 2>&1; echo fine")) == ["oops", "fine", "both", "fine"]


def test_output_redirected_to_dev_null_is_not_logged() -> None:
    assert lines(sh("echo hidden > /dev/null; foo 2>/dev/null; echo shown")) == ["shown"]


def test_output_redirected_to_a_file_creates_it() -> None:
    result = sh("sleep 1; echo ready > /tmp/ready; sleep 5")
    assert result.files == ((1.0, "/tmp/ready", True),)
    assert lines(result) == []


def test_redirecting_into_a_missing_directory_fails() -> None:
    result = sh("echo x > /data/out/log")
    assert (result.exit_code, result.last_words) == (1, ("sh: can't create /data/out/log: nonexistent directory",))


def test_redirecting_into_a_missing_directory_in_dash() -> None:
    assert sh("echo x > /data/out/log", "nginx:1.27").last_words == (
        "sh: 1: cannot create /data/out/log: Directory nonexistent",)


def test_the_classic_liveness_file_timeline() -> None:
    result = sh("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600")
    assert result.files == ((0.0, "/tmp/healthy", True), (30.0, "/tmp/healthy", False))
    assert (result.ends_after, result.exit_code) == (630.0, 0)


def test_rm_without_f_of_a_missing_file_fails() -> None:
    result = sh("rm /tmp/nothing")
    assert (result.exit_code, result.last_words) == (1, ("rm: can't remove '/tmp/nothing': No such file or "
                                                         "directory",))


def test_cat_of_a_missing_file_in_coreutils_wording() -> None:
    assert sh("cat /etc/app.conf", "nginx:1.27").last_words == ("cat: /etc/app.conf: No such file or directory",)


def test_a_never_ending_loop_repeats_its_lines_up_to_the_cap_and_runs_until_stopped() -> None:
    result = sh("while true; do echo tick; sleep 5; done")
    assert result.ends_after is None and result.stop_exit_code is None
    assert len(result.logs) == LOG_CAP
    assert result.logs[:3] == ((0.0, "tick"), (5.0, "tick"), (10.0, "tick"))


def test_a_loop_that_ends_by_itself() -> None:
    result = sh("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo n=$i; sleep 1; done; exit 4")
    assert (lines(result), result.ends_after, result.exit_code) == (["n=1", "n=2", "n=3"], 3.0, 4)


def test_until_and_for_loops() -> None:
    assert lines(sh("for x in a b; do echo $x; done; n=0; until [ $n -ge 2 ]; do n=$((n+1)); done; echo $n")) == [
        "a", "b", "2"]


def test_for_over_a_command_substitution() -> None:
    assert lines(sh("for i in $(seq 1 3); do echo item-$i; done")) == ["item-1", "item-2", "item-3"]


def test_if_elif_else_with_test() -> None:
    script = "if [ -f /etc/passwd ]; then echo has-passwd; fi; if [ -z \"$X\" ]; then echo empty; else echo set; fi"
    assert lines(sh(script)) == ["has-passwd", "empty"]


def test_a_loop_that_waits_for_a_file_that_never_comes_runs_until_stopped() -> None:
    result = sh("until [ -f /tmp/go ]; do sleep 1; done; echo started")
    assert result.ends_after is None and lines(result) == []


def test_parameter_expansion_defaults() -> None:
    assert lines(sh('echo ${PORT:-8080} ${MODE} "${NAME:=svc}" $NAME', env={"MODE": "fast"})) == [
        "8080 fast svc svc"]


def test_a_required_variable_that_is_missing_ends_the_script() -> None:
    result = sh('echo "${DATABASE_URL:?must be set}"; echo never')
    assert (result.exit_code, result.last_words) == (2, ("sh: DATABASE_URL: must be set",))


def test_the_container_environment_is_visible_to_the_script() -> None:
    assert lines(sh("echo $GREETING; printenv GREETING", env={"GREETING": "hi"})) == ["hi", "hi"]


def test_positional_parameters_after_the_script() -> None:
    result = start("busybox:1.36", command=["sh", "-c", 'echo "$0 got $1 and $#"', "worker", "job-7"])
    assert lines(result) == ["worker got job-7 and 1"]


def test_pipelines_feed_the_next_command() -> None:
    assert lines(sh("printf 'a\\nb\\nc\\n' | grep b; echo x | wc -l")) == ["b", "1"]


def test_subshells_keep_their_exit_to_themselves() -> None:
    assert lines(sh("(echo inner; exit 3); echo outer $?")) == ["inner", "outer 3"]


def test_date_counts_from_the_start_time() -> None:
    result = run(image("busybox:1.36"), {"command": ["sh", "-c", "sleep 61; date -u +%H:%M:%S; date"]}, {}, None,
                 started_at=datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC))
    assert lines(result) == ["12:01:01", "Mon Mar 10 12:01:01 UTC 2025"]


def test_unterminated_quote_is_a_syntax_error() -> None:
    result = sh("echo 'oops")
    assert (result.exit_code, result.last_words) == (2, ("sh: syntax error: unterminated quoted string",))


def test_a_missing_fi_in_busybox_and_dash() -> None:
    assert sh("if true; then echo x").last_words == ('sh: syntax error: unexpected end of file (expecting "fi")',)
    assert sh("if true; then echo x", "nginx:1.27").last_words == (
        'sh: 1: Syntax error: end of file unexpected (expecting "fi")',)


def test_a_shell_script_file_that_is_not_there() -> None:
    result = start("busybox:1.36", command=["sh", "/scripts/start.sh"])
    assert (result.exit_code, result.last_words) == (2, ("sh: can't open '/scripts/start.sh': No such file or "
                                                         "directory",))


def test_cd_into_the_working_directory_and_relative_paths() -> None:
    result = start("busybox:1.36", command=["sh", "-c", "touch marker; cd /tmp && touch other"], workingDir="/srv")
    assert result.files == ((0.0, "/srv/marker", True), (0.0, "/tmp/other", True))


# ---- python ----------------------------------------------------------------------------------------------------


def test_python_raise_prints_a_traceback_and_exits_1() -> None:
    result = start("python:3.13", command=["python3", "-c", "raise RuntimeError('boom')"])
    assert (result.exit_code, result.reason) == (1, "Error")
    assert result.last_words == ("Traceback (most recent call last):", '  File "<string>", line 1, in <module>',
                                 "RuntimeError: boom")


@pytest.mark.parametrize(("code", "status"), [("import sys; sys.exit(1)", 1), ("import sys; sys.exit(3)", 3),
                                              ("import sys; sys.exit()", 0), ("raise SystemExit(4)", 4),
                                              ("exit(0)", 0), ("import os; os._exit(7)", 7)])
def test_python_exit_statuses(code: str, status: int) -> None:
    assert start("python:3.13", command=["python3", "-c", code]).exit_code == status


def test_python_exit_with_a_message_prints_it_and_exits_1() -> None:
    result = start("python:3.13", command=["python", "-c", "import sys; sys.exit('config missing')"])
    assert (result.exit_code, result.last_words) == (1, ("config missing",))


def test_python_stdout_is_flushed_only_at_exit_without_a_terminal() -> None:
    result = start("python:3.13", command=["python3", "-c", "import time; print('hi'); time.sleep(5)"])
    assert result.logs == ((5.0, "hi"),)


def test_python_unbuffered_prints_at_once() -> None:
    code = "import time; print('hi'); time.sleep(5)"
    assert start("python:3.13", command=["python3", "-u", "-c", code]).logs == ((0.0, "hi"),)
    assert start("python:3.13", command=["python3", "-c", code], env={"PYTHONUNBUFFERED": "1"}).logs == (
        (0.0, "hi"),)


def test_a_buffered_python_loop_never_shows_its_prints() -> None:
    result = start("python:3.13", command=["python3", "-c", "import time\nwhile True:\n    print('tick')\n"
                                                             "    time.sleep(1)"])
    assert result.ends_after is None and result.logs == ()


def test_python_reading_a_missing_environment_variable() -> None:
    result = start("python:3.13", command=["python3", "-c", "import os; print(os.environ['DB_URL'])"])
    assert result.last_words[-1] == "KeyError: 'DB_URL'"


def test_python_importing_a_module_the_image_lacks() -> None:
    result = start("python:3.13", command=["python3", "-c", "import flask"])
    assert result.last_words[-1] == "ModuleNotFoundError: No module named 'flask'"


def test_python_syntax_error() -> None:
    result = start("python:3.13", command=["python3", "-c", "print('x'"])
    assert result.exit_code == 1 and result.last_words[-1].startswith("SyntaxError: ")


def test_python_script_that_does_not_exist_exits_2() -> None:
    result = start("python:3.13", command=["python3", "/app/main.py"])
    assert (result.exit_code, result.last_words) == (2, ("python3: can't open file '/app/main.py': [Errno 2] No "
                                                         "such file or directory",))


def test_python_script_relative_to_the_working_directory() -> None:
    result = start("python:3.13", command=["python", "main.py"], workingDir="/app")
    assert result.last_words == ("python: can't open file '/app/main.py': [Errno 2] No such file or directory",)


def test_python_http_server() -> None:
    result = start("python:3.13", command=["python3", "-m", "http.server", "9000"])
    assert result.servers[0].ports == (9000,) and result.stop_exit_code is None


# ---- memory ----------------------------------------------------------------------------------------------------


def test_over_the_limit_the_run_is_oom_killed_shortly_after_start_without_last_words() -> None:
    result = start("polinux/stress", command=["stress"], args=["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"],
                   limit=100 * MiB)
    assert (result.exit_code, result.reason, result.last_words) == (137, "OOMKilled", ())
    assert 0 < (result.ends_after or 0) < 1
    assert lines(result) == ["stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd"]


def test_under_the_limit_nothing_happens() -> None:
    result = start("polinux/stress", command=["stress", "--vm", "1", "--vm-bytes", "50M"], limit=100 * MiB)
    assert result.ends_after is None and result.reason == ""


def test_simcluster_memory_sets_what_the_process_uses() -> None:
    result = start("busybox:1.36", command=["sleep", "3600"], env={"SIMCLUSTER_MEMORY": "600Mi"})
    assert result.memory == 600 * MiB and result.reason == "Completed"


def test_a_server_over_its_limit_is_killed_when_it_has_started() -> None:
    result = start("nginx:1.27", env={"SIMCLUSTER_MEMORY": "600Mi"}, limit=512 * MiB)
    assert (result.reason, result.exit_code, result.ends_after) == ("OOMKilled", 137, pytest.approx(0.4))
    assert any(line.endswith("start worker processes") for line in lines(result))


def test_each_image_uses_its_catalog_memory_by_default() -> None:
    assert start("redis:7.4").memory == image("redis:7.4").memory
    assert start("postgres:16", env={"POSTGRES_PASSWORD": "x"}).memory == 30 * MiB


# ---- commands run inside a running container (exec probes) ---------------------------------------------------


def test_exec_in_sees_the_file_timeline() -> None:
    result = sh("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600")
    assert exec_in(result, ["cat", "/tmp/healthy"], 10.0).status == 0
    after = exec_in(result, ["cat", "/tmp/healthy"], 35.0)
    assert (after.status, after.output) == (1, "cat: can't open '/tmp/healthy': No such file or directory\n")


def test_exec_in_of_a_missing_program_is_a_runtime_error() -> None:
    result = exec_in(start("nginx:1.27"), ["pg_isready"], 1.0)
    assert result.error.startswith("failed to exec in container: failed to start exec \"")
    assert result.error.endswith('OCI runtime exec failed: exec failed: unable to start container process: '
                                 'exec: "pg_isready": executable file not found in $PATH: unknown')


def test_exec_in_that_never_ends_takes_forever() -> None:
    assert exec_in(start("nginx:1.27"), ["sleep", "infinity"], 1.0).seconds == FOREVER


def test_exec_in_reaches_the_containers_own_servers() -> None:
    redis = start("redis:7.4")
    assert exec_in(redis, ["redis-cli", "ping"], 0.0).output == (
        "Could not connect to Redis at 127.0.0.1:6379: Connection refused\n")
    assert exec_in(redis, ["redis-cli", "ping"], 1.0).output == "PONG\n"
    web = start("nginx:1.27")
    assert exec_in(web, ["curl", "-f", "http://localhost/"], 1.0).status == 0
    assert exec_in(web, ["curl", "-f", "http://localhost/healthz"], 1.0).output == (
        "curl: (22) The requested URL returned error: 404\n")


def test_case_with_alternatives_and_a_default() -> None:
    script = 'case "$MODE" in fast|quick) echo speedy;; *) echo slow;; esac'
    assert lines(sh(script, env={"MODE": "quick"})) == ["speedy"]
    assert lines(sh(script)) == ["slow"]


def test_quoted_case_patterns_match_literally() -> None:
    assert lines(sh('case "a*" in "a*") echo literal;; a*) echo glob;; esac')) == ["literal"]
    assert lines(sh('case abc in "a*") echo literal;; a*) echo glob;; esac')) == ["glob"]


def test_timeout_kills_a_command_that_overruns() -> None:
    assert sh("timeout 2 sleep 10; echo $?").logs == ((2.0, "143"),)
    assert sh("timeout 2 sleep 10; echo $?", "nginx:1.27").logs == ((2.0, "124"),)
    assert sh("timeout 5 sleep 1; echo $?").logs == ((1.0, "0"),)
