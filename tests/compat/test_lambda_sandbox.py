"""Lambda execution environments are isolated, as on AWS: the code is
read-only (/var/task), /tmp is each environment's own, the only writable
place and as large as EphemeralStorage, nimbus's data directory and other
processes are out of sight, a nimbus running as root runs functions as an
unprivileged user (AWS's sbx_user1051, 993:990), killing an environment
kills every process it started (even one that left its session), and
MemorySize is a hard limit (also through a cgroup v2 root named with
--lambda-cgroup-root). `--lambda-isolation none` turns it off.

These run on a nimbus of their own whose data directory is outside /tmp, so
hiding it is really tested. Where this machine cannot isolate (not root and
no user namespaces, no cgroup memory controller), the tests that need it are
skipped with the reason nimbus gives in /_nimbus/health."""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.request
import uuid
from pathlib import Path

import pytest
from compat_util import zip_of
from conftest import _CONFIG, _session, _start_nimbus, _stop_nimbus

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def health(endpoint):
    with urllib.request.urlopen(endpoint + "/_nimbus/health", timeout=5) as r:
        return json.loads(r.read())


def start(args, wrapper=()):
    """(process, endpoint, log) of a new nimbus; stopped by stop()."""
    return _start_nimbus(args, wrapper)


def stop(proc, log):
    _stop_nimbus(proc, log)


@pytest.fixture(scope="module")
def server():
    """A nimbus with its data in /var/tmp (visible to functions unless
    hidden, unlike anything under /tmp)."""
    parent = "/var/tmp" if os.path.isdir("/var/tmp") else None
    data = Path(tempfile.mkdtemp(prefix="nimbus-sandbox-", dir=parent))
    proc, endpoint, log = start(("--data-dir", str(data)))
    try:
        yield {"endpoint": endpoint, "data": data, "pid": proc.pid}
    finally:
        stop(proc, log)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def isolation(server):
    got = health(server["endpoint"])["lambdaIsolation"]
    if got["namespaces"] is None:
        pytest.skip(got["summary"])
    return got


@pytest.fixture(scope="module")
def lam(server):
    return _session().client("lambda", endpoint_url=server["endpoint"], config=_CONFIG)


@pytest.fixture
def function(lam):
    made = []

    def make(source, runtime="python3.12", handler="index.handler", files=None, **kwargs):
        name = f"sbx-{uuid.uuid4().hex[:12]}"
        ext = "mjs" if runtime.startswith("nodejs") else "py"
        lam.create_function(
            FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
            Code={"ZipFile": zip_of({f"index.{ext}": source, **(files or {})})}, **kwargs,
        )
        made.append(name)
        return name

    yield make
    for name in made:
        lam.delete_function(FunctionName=name)


def call(lam, name, event=None, **kwargs):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    return r, json.loads(r["Payload"].read() or b"null")


def test_health_and_metrics_say_how_functions_are_isolated(server, isolation):
    assert isolation["namespaces"] in ("mount+pid", "user+mount+pid")
    assert isolation["summary"].startswith(f"functions isolated: {isolation['namespaces']} namespaces, ")
    assert isolation["summary"].endswith(", /tmp limited to EphemeralStorage")
    assert isolation["tmpLimited"] is True
    assert isolation["memory"] in ("cgroup v1", "cgroup v2", "sampling")
    if os.geteuid() == 0:
        assert (isolation["uid"], isolation["gid"]) == (993, 990)
        assert "running as uid 993 gid 990" in isolation["summary"]
    else:
        assert (isolation["uid"], isolation["gid"]) == (os.geteuid(), os.getegid())
    with urllib.request.urlopen(server["endpoint"] + "/_nimbus/metrics", timeout=5) as r:
        text = r.read().decode()
    line = f'nimbus_lambda_isolation{{namespaces="{isolation["namespaces"]}",memory="{isolation["memory"]}"}} 1'
    assert line in text.splitlines()


# Function code: "ok", or the errno name an action failed with.
ATTEMPT_PY = """
import errno, os

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
"""


WRITER_PY = ATTEMPT_PY + """

def write(path, mode="w"):
    with open(path, mode) as f:
        f.write("mutated-by-" + "function")

def handler(event, context):
    root = os.environ["LAMBDA_TASK_ROOT"]
    return {
        "root": root,
        "cwd": os.getcwd(),
        "new file in task root": attempt(lambda: write(os.path.join(root, "new.txt"))),
        "append to own code": attempt(lambda: write(os.path.join(root, "index.py"), "a")),
        "chmod own code": attempt(lambda: os.chmod(os.path.join(root, "index.py"), 0o777)),
        "mkdir in task root": attempt(lambda: os.mkdir(os.path.join(root, "d"))),
        "/etc": attempt(lambda: write("/etc/nimbus-sandbox-test")),
        "/usr": attempt(lambda: write("/usr/nimbus-sandbox-test")),
        "/var": attempt(lambda: write("/var/nimbus-sandbox-test")),
        "/opt": attempt(lambda: write("/opt/nimbus-sandbox-test")),
        "/dev": attempt(lambda: write("/dev/nimbus-sandbox-test")),
        "/dev/null": attempt(lambda: write("/dev/null")),
        "/tmp": attempt(lambda: write("/tmp/nimbus-sandbox-test")),
        "code mutated": ("mutated-by-" + "function") in open(os.path.join(root, "index.py")).read(),
    }
"""


def test_task_root_is_read_only_and_tmp_is_the_only_writable_place(server, isolation, lam, function):
    # Two functions with the same package share its extracted tree on the
    # host: neither can change it for the other.
    first = function(WRITER_PY)
    second = function(WRITER_PY)
    _, got = call(lam, first)
    assert got["root"] == got["cwd"] == "/var/task"
    for attempt in ("new file in task root", "mkdir in task root", "/etc", "/usr", "/var", "/opt", "/dev"):
        assert got[attempt] == "EROFS", (attempt, got)
    # The code's files are nimbus's: as another uid, the function may meet
    # their permissions before the read-only mount.
    for attempt in ("append to own code", "chmod own code"):
        expected = {"EROFS"} if isolation["uid"] == os.geteuid() else {"EROFS", "EACCES", "EPERM"}
        assert got[attempt] in expected, (attempt, got)
    assert got["/dev/null"] == "ok"
    assert got["/tmp"] == "ok"
    _, other = call(lam, second)
    assert other["code mutated"] is False and other["new file in task root"] == "EROFS"
    # Nothing reached the host: the shared tree is as extracted, and the
    # host's directories have no test file.
    tasks = server["data"] / "lambda" / "code" / "tasks"
    (tree,) = list(tasks.iterdir())
    assert sorted(p.name for p in tree.iterdir()) == ["index.py"]
    assert (tree / "index.py").read_text() == WRITER_PY
    for host in ("/etc", "/usr", "/var", "/opt", "/dev", "/tmp"):
        assert not os.path.exists(f"{host}/nimbus-sandbox-test"), host


LOOK_PY = """
import os

def handler(event, context):
    data = event["data"]
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    try:
        os.kill(event["nimbus_pid"], 0)
        signal_nimbus = "delivered"
    except ProcessLookupError:
        signal_nimbus = "no such process"
    except PermissionError:
        signal_nimbus = "not permitted"
    return {
        "data listing": os.listdir(data) if os.path.isdir(data) else None,
        "lambda dir": os.path.exists(os.path.join(data, "lambda")),
        "pids": pids,
        "own pid": os.getpid(),
        "nimbus visible": os.path.exists(f"/proc/{event['nimbus_pid']}"),
        "signal nimbus": signal_nimbus,
        "init visible": os.path.exists("/proc/1"),
        "effective caps": [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0],
    }
"""


def test_data_dir_and_other_processes_are_out_of_sight(server, isolation, lam, function):
    name = function(LOOK_PY)
    _, got = call(lam, name, {"data": str(server["data"]), "nimbus_pid": server["pid"]})
    # The data directory (the store, every function's code and /tmp) is an
    # empty directory to the function.
    assert got["data listing"] == [] and got["lambda dir"] is False
    # Only the environment's own processes: not nimbus, not other
    # functions', not even the namespace's init.
    assert got["own pid"] in got["pids"] and max(got["pids"]) < 100, got["pids"]
    assert got["init visible"] is False
    assert got["nimbus visible"] is False
    assert got["signal nimbus"] == "no such process"
    assert got["effective caps"] == "0000000000000000"


TMP_PY = """
import os

def handler(event, context):
    if "write" in event:
        with open(os.path.join("/tmp", event["write"]), "w") as f:
            f.write("secret")
    return sorted(os.listdir("/tmp"))
"""


def test_tmp_is_private_to_each_environment(isolation, lam, function):
    secret = f"secret-{uuid.uuid4().hex}"
    first = function(TMP_PY)
    second = function(TMP_PY)
    assert call(lam, first, {"write": secret})[1] == [secret]
    # Kept by the environment between invocations, as on AWS...
    assert call(lam, first)[1] == [secret]
    # ...but not another function's, nor the host's.
    assert call(lam, second)[1] == []
    assert not os.path.exists(f"/tmp/{secret}")
    # A new environment of the same function starts with an empty /tmp.
    lam.update_function_configuration(FunctionName=first, Environment={"Variables": {"ROUND": "2"}})
    assert call(lam, first)[1] == []


DAEMON_PY = """
import os, sys, time

GRANDCHILD = '''
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(f"{os.getpgid(0)} {sys.argv[2]}\\\\n".encode())
time.sleep(600)
'''

def handler(event, context):
    # The classic daemon: fork, leave the session, fork again, parent exits.
    runtime_group = str(os.getpgid(0))
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", GRANDCHILD, str(event["port"]), runtime_group])
        os._exit(0)
    os.waitpid(child, 0)
    time.sleep(event["sleep"])
    return "done"
"""


def test_a_setsid_grandchild_dies_with_its_environment(isolation, lam, function):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    port = listener.getsockname()[1]
    name = function(DAEMON_PY, Timeout=1)
    # The handler outlives its timeout: nimbus kills the environment.
    r, got = call(lam, name, {"port": port, "sleep": 5})
    assert r["FunctionError"] == "Unhandled" and got["errorType"] == "Sandbox.Timedout", got
    conn, _ = listener.accept()
    conn.settimeout(10)
    group, runtime_group = conn.recv(64).decode().split()
    assert group != runtime_group, "the grandchild did not leave the runtime's process group"
    # Killed with the rest of the environment: its connection closes.
    assert conn.recv(64) == b""
    conn.close()
    listener.close()


def test_the_runtimes_own_death_is_reported(isolation, lam, function):
    # nimbus's child is the environment's supervisor, which must end as the
    # runtime did: by the same signal, or with the same exit status.
    for source, detail in [
        ("import ctypes\n\ndef handler(event, context):\n    ctypes.string_at(0)\n", "signal: segmentation fault"),
        ("import os\n\ndef handler(event, context):\n    os._exit(7)\n", "exit status 7"),
    ]:
        r, got = call(lam, function(source))
        request_id = r["ResponseMetadata"]["RequestId"]
        assert got == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {detail}",
        }

LIMIT_PY = """
def handler(event, context):
    lines = open("/proc/self/cgroup").read().splitlines()
    v1 = [l.split(":", 2)[2] for l in lines if "memory" in l.split(":")[1].split(",")]
    if v1:
        mounts = [l.split()[4] for l in open("/proc/self/mountinfo")
                  if " - cgroup " in l and "memory" in l.split()[-1].split(",")]
        return int(open(f"{mounts[0]}{v1[0]}/memory.limit_in_bytes").read())
    v2 = [l.split(":", 2)[2] for l in lines if l.startswith("0::")][0]
    mount = [l.split()[4] for l in open("/proc/self/mountinfo") if " - cgroup2 " in l][0]
    return int(open(f"{mount}{v2}/memory.max").read())
"""


def test_memory_size_is_the_environments_cgroup_limit(isolation, lam, function):
    if isolation["memory"] == "sampling":
        pytest.skip(isolation["summary"])
    name = function(LIMIT_PY, MemorySize=192)
    r, got = call(lam, name)
    assert "FunctionError" not in r, got
    assert got == 192 * 1024 * 1024


HOG_PY = """
import time

def handler(event, context):
    # One big allocation, written in one go: no sampling would see it
    # coming, the kernel stops it at the limit.
    hog = b"x" * (event["mb"] * 1024 * 1024)
    # Held a while when asked: where nimbus samples instead, it must see it.
    time.sleep(event.get("hold", 0))
    return len(hog)
"""


def test_going_over_memory_size_is_out_of_memory(isolation, lam, function):
    name = function(HOG_PY, MemorySize=128, Timeout=30)
    r, got = call(lam, name, {"mb": 600}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    request_id = r["ResponseMetadata"]["RequestId"]
    assert got == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    }
    log = base64.b64decode(r["LogResult"]).decode()
    assert "Runtime.OutOfMemory" in log and "Memory Size: 128 MB" in log
    # A fresh environment serves the next invocation.
    r, got = call(lam, name, {"mb": 16})
    assert "FunctionError" not in r and got == 16 * 1024 * 1024


LAYER_PY = """
import errno, os
import fromlayer

def handler(event, context):
    try:
        open("/opt/python/new.py", "w")
        write = "ok"
    except OSError as e:
        write = errno.errorcode[e.errno]
    return {"value": fromlayer.VALUE, "opt": sorted(os.listdir("/opt")), "write": write,
            "file": fromlayer.__file__}
"""


def test_layers_are_read_only_at_opt(isolation, lam, function):
    name_ = f"sbx-layer-{uuid.uuid4().hex[:8]}"
    layer = lam.publish_layer_version(
        LayerName=name_, Content={"ZipFile": zip_of({"python/fromlayer.py": "VALUE = 'layer'\n", "bin/tool": "#"})}
    )
    try:
        name = function(LAYER_PY, Layers=[layer["LayerVersionArn"]])
        r, got = call(lam, name)
        assert "FunctionError" not in r, got
        assert got["value"] == "layer" and got["file"] == "/opt/python/fromlayer.py"
        assert {"python", "bin"} <= set(got["opt"])
        assert got["write"] == "EROFS"
    finally:
        lam.delete_layer_version(LayerName=name_, VersionNumber=layer["Version"])


NODE_MJS = """
import fs from 'node:fs';
export const handler = async () => {
  const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
  return {
    root: process.env.LAMBDA_TASK_ROOT,
    taskRoot: attempt(() => fs.writeFileSync('/var/task/new.txt', 'x')),
    tmp: attempt(() => fs.writeFileSync('/tmp/new.txt', 'x')),
    pid: process.pid,
    uid: process.getuid(),
  };
};
"""


def test_node_runs_isolated_too(isolation, lam, function):
    name = function(NODE_MJS, runtime="nodejs20.x")
    r, got = call(lam, name)
    assert "FunctionError" not in r, got
    # The sandbox user as root, nimbus's own uid otherwise.
    uid = 993 if os.geteuid() == 0 else os.geteuid()
    assert got == {"root": "/var/task", "taskRoot": "EROFS", "tmp": "ok", "pid": 2, "uid": uid}


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_without_root_a_user_namespace_isolates():
    """nimbus run by an unprivileged user (here: root dropping to nobody)
    isolates functions inside a user namespace; the function keeps that
    user's uid. Node, because this machine's Python may sit in root's home."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to start nimbus as an unprivileged user")
    if subprocess.run([*NOBODY, "node", "--version"], capture_output=True).returncode != 0:
        pytest.skip("node cannot be run by an unprivileged user here")
    proc, endpoint, log = start(("--in-memory",), wrapper=NOBODY)
    try:
        got = health(endpoint)["lambdaIsolation"]
        if got["namespaces"] is None:
            pytest.skip(got["summary"])
        assert got["namespaces"] == "user+mount+pid", got
        lam = _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)
        name = f"nobody-{uuid.uuid4().hex[:8]}"
        lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": zip_of({"index.mjs": NODE_MJS})})
        r, got = call(lam, name)
        assert "FunctionError" not in r, got
        assert got == {"root": "/var/task", "taskRoot": "EROFS", "tmp": "ok", "pid": 2, "uid": 65534}
    finally:
        stop(proc, log)


PLAIN_PY = """
import os

def handler(event, context):
    root = os.environ["LAMBDA_TASK_ROOT"]
    with open(os.path.join(root, "written.txt"), "w") as f:
        f.write("x")
    return {"root": root, "echo": event}
"""


def test_isolation_none_runs_plain_processes():
    proc, endpoint, log = start(("--in-memory", "--lambda-isolation", "none"))
    try:
        got = health(endpoint)["lambdaIsolation"]
        assert got == {
            "namespaces": None,
            "memory": "sampling",
            "uid": os.geteuid(),
            "gid": os.getegid(),
            "tmpLimited": False,
            "summary": "functions not isolated: --lambda-isolation none; memory limited by sampling; "
            f"running as nimbus's uid {os.geteuid()}; /tmp not limited to EphemeralStorage",
        }
        with urllib.request.urlopen(endpoint + "/_nimbus/metrics", timeout=5) as r:
            assert 'nimbus_lambda_isolation{namespaces="none",memory="sampling"} 1' in r.read().decode()
        lam = _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)
        name = f"plain-{uuid.uuid4().hex[:8]}"
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": zip_of({"index.py": PLAIN_PY})})
        r, got = call(lam, name, {"a": 1})
        assert "FunctionError" not in r, got
        # The host's own path, writable: what isolation takes away.
        assert got["echo"] == {"a": 1}
        assert got["root"] != "/var/task" and os.path.isfile(os.path.join(got["root"], "written.txt"))
    finally:
        stop(proc, log)


EPHEMERAL_PY = """
import errno, os

MIB = 1024 * 1024

def attempt(action):
    try:
        return action()
    except OSError as e:
        return errno.errorcode[e.errno]

def fill(path, limit):
    # Real writes, 1 MiB at a time, until the file system says no (or,
    # were there no limit, a little past the size it claims).
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC)
    chunk, written, error = b"\\xa5" * MIB, 0, "none"
    try:
        while written < limit + 4 * MIB:
            written += os.write(fd, chunk)
    except OSError as e:
        error = errno.errorcode[e.errno]
    finally:
        os.close(fd)
        os.unlink(path)
    return written, error

def allocate(path, size):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY)
    try:
        os.posix_fallocate(fd, 0, size)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
    finally:
        os.close(fd)
        os.unlink(path)

def handler(event, context):
    st = os.statvfs("/tmp")
    size = st.f_blocks * st.f_frsize
    out = {"size": size, "kept": attempt(lambda: os.path.getsize("/tmp/kept"))}
    if event.get("fill"):
        out["fallocate past"] = allocate("/tmp/big", size + MIB)
        out["written"], out["write error"] = fill("/tmp/fill", size)
        # Everything written was given back: what fits still fits.
        with open("/tmp/kept", "wb") as f:
            f.write(b"k" * (8 * MIB))
        out["fallocate under"] = allocate("/tmp/under", size // 2)
    return out
"""


def test_tmp_is_as_large_as_ephemeral_storage(isolation, lam, function):
    # /tmp is memory (a tmpfs charged to the environment's cgroup): the
    # function's MemorySize must hold the 512 MB it writes.
    name = function(EPHEMERAL_PY, MemorySize=1024, Timeout=60)
    r, got = call(lam, name, {"fill": True})
    assert "FunctionError" not in r, got
    mib = 1024 * 1024
    assert got["size"] == 512 * mib
    # Past EphemeralStorage: ENOSPC, as on AWS, whether reserved at once or
    # written, and writes stop at the size (less what the first file's
    # metadata takes at most).
    assert got["fallocate past"] == "ENOSPC"
    assert got["write error"] == "ENOSPC"
    assert 511 * mib <= got["written"] <= 512 * mib, got["written"]
    assert got["fallocate under"] == "ok"
    # /tmp outlives the invocation in its environment.
    assert got["kept"] == "ENOENT"
    r, got = call(lam, name)
    assert got["kept"] == 8 * mib
    # A larger EphemeralStorage makes a larger /tmp, in the next
    # environment (the configuration changed), which starts empty.
    lam.update_function_configuration(FunctionName=name, EphemeralStorage={"Size": 10240})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    r, got = call(lam, name)
    assert got == {"size": 10240 * mib, "kept": "ENOENT"}


def test_tmp_counts_against_memory_size(isolation, lam, function):
    # The trade-off of a tmpfs /tmp: its pages are the environment's memory.
    # 256 MiB of files do not fit in 128 MB: the function is stopped as out
    # of memory (AWS would store them on disk), and the next invocation gets
    # a fresh environment with an empty /tmp.
    if isolation["memory"] == "sampling":
        pytest.skip("memory is sampled (the runtime's RSS, which tmpfs pages are not part of)")
    name = function(EPHEMERAL_PY, MemorySize=128, Timeout=30)
    r, got = call(lam, name, {"fill": True})
    assert r.get("FunctionError") == "Unhandled", got
    assert got["errorType"] == "Runtime.OutOfMemory", got
    r, got = call(lam, name)
    assert "FunctionError" not in r and got == {"size": 512 * 1024 * 1024, "kept": "ENOENT"}


IDENTITY_PY = ATTEMPT_PY + """

def handler(event, context):
    with open("/tmp/mine", "w") as f:
        f.write("x")
    return {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "tmp file owner": os.stat("/tmp/mine").st_uid,
        # Root-only on the host (0640 root:shadow, 0700 root): root reads
        # them even without capabilities; another uid does not.
        "read /etc/shadow": attempt(lambda: open("/etc/shadow").read()),
        "list root-only dir": attempt(lambda: os.listdir(event["private"])),
        # The namespace's init runs as root: it cannot be signalled.
        "signal init": attempt(lambda: os.kill(1, 0)),
        "setuid 0": attempt(lambda: os.setuid(0)),
        "task root": attempt(lambda: open("/var/task/x", "w")),
    }
"""


def test_functions_run_as_an_unprivileged_user(server, isolation, lam, function):
    if os.geteuid() != 0:
        pytest.skip("nimbus does not run as root: functions keep its uid")
    # A root-only directory the function can see (under /var/tmp, which the
    # view carries over read-only) but must not read.
    private = Path(tempfile.mkdtemp(prefix="nimbus-root-only-", dir="/var/tmp"))
    try:
        (private / "secret").write_text("root's")
        name = function(IDENTITY_PY)
        r, got = call(lam, name, {"private": str(private)})
        assert "FunctionError" not in r, got
        assert got == {
            "uid": 993, "euid": 993, "gid": 990, "groups": [],
            "tmp file owner": 993,
            "read /etc/shadow": "EACCES" if os.path.exists("/etc/shadow") else "ENOENT",
            "list root-only dir": "EACCES",
            "signal init": "EPERM",
            "setuid 0": "EPERM",
            "task root": "EROFS",
        }
    finally:
        shutil.rmtree(private)


def cgroup_v2_mount():
    for line in open("/proc/self/mountinfo"):
        if " - cgroup2 " in line:
            return line.split()[4]
    return None


def test_memory_limit_through_a_cgroup_v2_root():
    """--lambda-cgroup-root names the cgroup to create environments' cgroups
    under; pointed at the cgroup v2 tree. Where v2 has the memory controller
    the kernel enforces MemorySize there; where a v1 hierarchy holds it
    (this project's machines: /proc/cgroups puts memory in a v1 hierarchy,
    and v2's cgroup.controllers lists only hugetlb), nimbus says so
    precisely and falls back to sampling, which still stops the function."""
    root = cgroup_v2_mount()
    if root is None or os.geteuid() != 0:
        pytest.skip("needs root and a mounted cgroup v2 hierarchy")
    controllers = Path(root, "cgroup.controllers").read_text().split()
    proc, endpoint, log = start(("--in-memory", "--lambda-cgroup-root", root))
    try:
        got = health(endpoint)["lambdaIsolation"]
        if got["namespaces"] is None:
            pytest.skip(got["summary"])
        lam = _session().client("lambda", endpoint_url=endpoint, config=_CONFIG)
        name = f"v2-{uuid.uuid4().hex[:8]}"
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            MemorySize=128, Timeout=30, Code={"ZipFile": zip_of({"index.py": HOG_PY})})
        if "memory" in controllers:
            assert got["memory"] == "cgroup v2", got
            limit = f"v2-limit-{uuid.uuid4().hex[:8]}"
            lam.create_function(FunctionName=limit, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                                MemorySize=192, Code={"ZipFile": zip_of({"index.py": LIMIT_PY})})
            assert call(lam, limit)[1] == 192 * 1024 * 1024
            hold = 0
        else:
            assert got["memory"] == "sampling", got
            assert f"cgroup v2 at {root} has no memory controller" in got["summary"], got
            assert f'(cgroup.controllers: "{" ".join(controllers)}")' in got["summary"], got
            hold = 2
        r, body = call(lam, name, {"mb": 600, "hold": hold})
        assert r.get("FunctionError") == "Unhandled", body
        assert body["errorType"] == "Runtime.OutOfMemory", body
        r, body = call(lam, name, {"mb": 16})
        assert "FunctionError" not in r and body == 16 * 1024 * 1024
    finally:
        stop(proc, log)
