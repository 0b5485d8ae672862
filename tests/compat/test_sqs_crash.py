"""SQS durability under kill -9 (the SQS issue, part 6): producers and
consumers run concurrently against a durable nimbus, the server is killed
with SIGKILL mid-load, and after a restart the full accounting of message
ids holds: every acknowledged send whose delete was never attempted is
received again, no acknowledged delete comes back, and nothing appears that
was never sent."""

import os
import signal
import threading
import time

import pytest
from compat_util import advance_clock
from conftest import _CONFIG, _session, _start_nimbus

PRODUCERS = 4
CONSUMERS = 4


def client(url):
    return _session().client("sqs", endpoint_url=url, config=_CONFIG)


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_every_acknowledged_message_is_accounted_for_after_sigkill(tmp_path, fifo):
    data = tmp_path / "data"
    proc, url, log = _start_nimbus(("--data-dir", str(data)))
    name = "crash.fifo" if fifo else "crash"
    attributes = {"VisibilityTimeout": "5"}
    if fifo:
        attributes["FifoQueue"] = "true"
    queue = client(url).create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    lock = threading.Lock()
    sent, acked, attempted_delete, deleted = set(), set(), set(), set()
    stop = threading.Event()

    def produce(p):
        c = client(url)
        i = 0
        while not stop.is_set():
            body = f"p{p}-{i}"
            with lock:
                sent.add(body)
            kwargs = {"QueueUrl": queue, "MessageBody": body}
            if fifo:
                kwargs.update(MessageGroupId=f"g{p % 2}", MessageDeduplicationId=body)
            try:
                c.send_message(**kwargs)
            except Exception:
                return  # the server is gone
            with lock:
                acked.add(body)
            i += 1

    def consume():
        c = client(url)
        while not stop.is_set():
            try:
                msgs = c.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            except Exception:
                return
            for m in msgs:
                with lock:
                    attempted_delete.add(m["Body"])
                try:
                    c.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
                except Exception:
                    return
                with lock:
                    deleted.add(m["Body"])

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    threads += [threading.Thread(target=consume) for _ in range(CONSUMERS)]
    for t in threads:
        t.start()
    time.sleep(2.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    os.unlink(log)
    assert len(acked) > 100 and len(deleted) > 50, (len(acked), len(deleted))

    proc, url, log = _start_nimbus(("--data-dir", str(data)))
    try:
        # Messages in flight at the kill become visible after their
        # visibility timeout, which the clock skips.
        advance_clock(url, 10)
        c = client(url)
        received = []
        empty = 0
        while empty < 3:
            msgs = c.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if not msgs:
                empty += 1
                continue
            empty = 0
            for m in msgs:
                received.append(m["Body"])
                c.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        got = set(received)
        assert got <= sent, f"never sent: {sorted(got - sent)[:5]}"
        assert not (got & deleted), f"acknowledged deletes came back: {sorted(got & deleted)[:5]}"
        missing = (acked - attempted_delete) - got
        assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:5]}"
        if fifo:
            # Exactly once per deduplication window, and in order per group.
            assert len(received) == len(got)
            for g in ("g0", "g1"):
                for p in range(PRODUCERS):
                    if f"g{p % 2}" != g:
                        continue
                    seq = [int(b.split("-")[1]) for b in received if b.startswith(f"p{p}-")]
                    assert seq == sorted(seq), f"group {g}, producer {p} out of order"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        os.unlink(log)
