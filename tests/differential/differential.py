#!/usr/bin/python3
"""Differential test: hometab's canonical JSON, content hashes, event ids and
signatures against Synapse's own libraries.

Synapse computes these with canonicaljson, signedjson and PyNaCl (Debian's
python3-canonicaljson, -signedjson, -nacl). This script makes seeded random
and hostile values and events, asks hometab (tests/differential/
canonical_tool.c, one line per question) and computes the same here, and
compares byte for byte. A difference is a room that would split between
hometab and Synapse: two hometabs agreeing with each other would never notice.

What is not in those libraries is written here from the spec, independently
of hometab's C: the redaction algorithms of room versions 10 and 11
(content/rooms/fragments/v9-redactions.md and v11-redactions.md), the
validator's rules (floats and integers beyond 2^53 refused, as Synapse's
validate_canonicaljson does, plus hometab's documented depth bound), and the
content and reference hashes (server-server "Signing Events").

    differential.py --tool build/native/canonical-tool [--seed N] [--count N]
    differential.py --vectors      prints the expected values pasted into
                                   tests/unit/test_pdu.c
"""

import argparse
import base64
import hashlib
import json
import os
import random
import subprocess
import sys

from canonicaljson import encode_canonical_json
import nacl.signing
import signedjson.key
import signedjson.sign

SEED_B64 = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"  # the spec's test vector seed
INT_MAX = 2**53 - 1
MAX_DEPTH = 1000  # hometab's bound on nesting (util/canonical.h)

sys.setrecursionlimit(20000)


def b64(data):
    return base64.b64encode(data).decode().rstrip("=")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signing_key():
    # signedjson's own decoder, as Synapse reads its signing key file
    return signedjson.key.decode_signing_key_base64("ed25519", "1", SEED_B64)


# ---- the reference: what Synapse computes ----------------------------------

def valid(value, depth=0):
    """The validator's rules: no floats, integers in +-(2^53 - 1), nesting at
    most MAX_DEPTH containers."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -INT_MAX <= value <= INT_MAX
    if isinstance(value, float):
        return False
    if depth >= MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(valid(v, depth + 1) for v in value.values())
    return all(valid(v, depth + 1) for v in value)


TOP_LEVEL = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
             "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"]
CONTENT = {
    "m.room.member": ["membership", "join_authorised_via_users_server"],
    "m.room.join_rules": ["join_rule", "allow"],
    "m.room.power_levels": ["ban", "events", "events_default", "kick", "redact", "state_default",
                            "users", "users_default"],
    "m.room.history_visibility": ["history_visibility"],
}


def redact(event, version):
    """The redaction algorithm, from the spec's lists."""
    keep = TOP_LEVEL + (["origin", "membership", "prev_state"] if version == 10 else [])
    out = {k: event[k] for k in keep if k in event}
    etype = event.get("type")
    content = event.get("content", {})
    if etype == "m.room.create" and version >= 11:
        out["content"] = content
        return out
    names = list(CONTENT.get(etype, []))
    if etype == "m.room.create":
        names.append("creator")
    if version >= 11 and etype == "m.room.power_levels":
        names.append("invite")
    if version >= 11 and etype == "m.room.redaction":
        names.append("redacts")
    kept = {k: content[k] for k in names if isinstance(content, dict) and k in content}
    if version >= 11 and etype == "m.room.member" and isinstance(content, dict):
        tpi = content.get("third_party_invite")
        if isinstance(tpi, dict):
            kept["third_party_invite"] = {"signed": tpi["signed"]} if "signed" in tpi else {}
    out["content"] = kept
    return out


def without(obj, *keys):
    return {k: v for k, v in obj.items() if k not in keys}


def content_hash(event):
    return b64(hashlib.sha256(encode_canonical_json(without(event, "unsigned", "signatures", "hashes"))).digest())


def event_id(event, version):
    redacted = without(redact(event, version), "signatures", "unsigned")
    return "$" + b64url(hashlib.sha256(encode_canonical_json(redacted)).digest())


def server_of(user_id):
    return user_id.split(":", 1)[1]


def hash_and_sign(event, version, key):
    """What a server does to an event it sends (spec "Adding hashes and
    signatures to outgoing events"), with signedjson doing the signing."""
    event = dict(event)
    event["hashes"] = {"sha256": content_hash(event)}
    signed = signedjson.sign.sign_json(redact(event, version), server_of(event["sender"]), key)
    event["signatures"] = signed["signatures"]
    return event


# ---- random and hostile values ----------------------------------------------

HOSTILE_CHARS = (
    [chr(c) for c in range(0x20)] + ['"', "\\", "/", "\x7f", "\x80", "\x9f", "\u00e9", "\u2028",
                                     "\u2029", "\ufeff", "\ufffe", "\uffff", "\ue000", "\u0301",
                                     "\u65e5", "\U00010000", "\U0001f600", "\U0010ffff", "<", ">",
                                     "&", "'", " ", "a", "Z", "0"]
)
# Keys that sort differently by UTF-16 code units than by code points
# (U+E000..U+FFFF against anything past U+FFFF), empty keys, prefixes.
HOSTILE_KEYS = ["", "a", "aa", "ab", "b", "A", "_", "\uffff", "\ue000", "\U00010000", "\U0001f600",
                "\U0010ffff", "m.relates_to", "\u00e9", "e\u0301", "\x01", "\x1f", " ", "\\", '"',
                "\u2028", "\u65e5", "\u672c", "body", "body2"]
INTEGERS = [0, 1, -1, INT_MAX, -INT_MAX, INT_MAX - 1, 2**53, -(2**53), 2**53 + 1, 2**63 - 1,
            -(2**63), 2**31, -(2**31), 10**15, 255, 256, 65536]
FLOATS = [1.5, -0.0, 0.1, 1e10, 1e300, -2.5]


class Maker:
    def __init__(self, rng, allow_nul):
        self.rng = rng
        self.allow_nul = allow_nul

    def string(self, max_len=24):
        r = self.rng
        n = r.choice([0, 1, 2, 5, max_len, r.randint(0, max_len)])
        chars = [r.choice(HOSTILE_CHARS) for _ in range(n)]
        if not self.allow_nul:
            chars = [c for c in chars if c != "\x00"]
        return "".join(chars)

    def key(self):
        return self.rng.choice(HOSTILE_KEYS) if self.rng.random() < 0.6 else self.string(8).replace("\x00", "")

    def number(self, floats):
        r = self.rng
        if floats and r.random() < 0.1:
            return r.choice(FLOATS)
        if r.random() < 0.5:
            return r.choice(INTEGERS)
        return r.randint(-INT_MAX, INT_MAX)

    def value(self, budget, floats=True):
        """A random value of about `budget` nodes."""
        r = self.rng
        kind = r.random()
        if budget <= 1 or kind < 0.4:
            leaf = r.random()
            if leaf < 0.45:
                return self.string()
            if leaf < 0.8:
                return self.number(floats)
            return r.choice([True, False, None])
        if kind < 0.7:
            return {self.key(): self.value(budget // 3, floats) for _ in range(r.randint(0, 6))}
        return [self.value(budget // 3, floats) for _ in range(r.randint(0, 6))]

    def nested(self, depth):
        """One chain of arrays and objects `depth` containers deep."""
        value = self.string(4)
        for i in range(depth):
            value = [value] if self.rng.random() < 0.5 else {self.key(): value}
        return value


def random_event(m, version):
    r = m.rng
    server = r.choice(["example.org", "h\u00f6me.test", "127.0.0.1:8448", "[::1]:8008", "a" * 40 + ".test"])
    sender = "@%s:%s" % (r.choice(["alice", "bob", "x", "\u00e9\u00e8", "a/b=c"]), server)
    etype = r.choice(["m.room.member", "m.room.create", "m.room.join_rules", "m.room.power_levels",
                      "m.room.history_visibility", "m.room.redaction", "m.room.message", "m.room.topic",
                      m.string(12) or "x"])
    content = {}
    pick = lambda: r.random() < 0.6  # noqa: E731
    if etype == "m.room.member":
        if pick(): content["membership"] = r.choice(["join", "invite", "leave", "ban", "knock", m.string()])
        if pick(): content["join_authorised_via_users_server"] = "@vouch:" + server
        if pick(): content["displayname"] = m.string()
        if pick():
            content["third_party_invite"] = r.choice([
                {"display_name": m.string(), "signed": {"mxid": sender, "token": m.string(),
                                                       "signatures": {"id.test": {"ed25519:0": m.string()}}}},
                {"display_name": m.string()}, m.string(), [1, 2]])
    elif etype == "m.room.create":
        if pick(): content["creator"] = sender
        if pick(): content["room_version"] = r.choice(["10", "11"])
        if pick(): content["m.federate"] = r.choice([True, False])
        if pick(): content["predecessor"] = {"room_id": "!old:" + server, "event_id": "$old"}
    elif etype == "m.room.join_rules":
        if pick(): content["join_rule"] = r.choice(["public", "invite", "restricted", "knock_restricted"])
        if pick(): content["allow"] = [{"type": "m.room_membership", "room_id": "!space:" + server}]
    elif etype == "m.room.power_levels":
        for name in ["ban", "events_default", "invite", "kick", "redact", "state_default", "users_default"]:
            if pick(): content[name] = r.choice([0, 50, 100, -1, INT_MAX])
        if pick(): content["events"] = {"m.room.name": 50, "m.room.power_levels": 100}
        if pick(): content["users"] = {sender: 100}
        if pick(): content["notifications"] = {"room": 50}
    elif etype == "m.room.history_visibility":
        if pick(): content["history_visibility"] = r.choice(["shared", "joined", "invited", "world_readable"])
    elif etype == "m.room.redaction":
        if pick(): content["redacts"] = "$" + b64url(bytes(r.getrandbits(8) for _ in range(32)))
        if pick(): content["reason"] = m.string()
    for _ in range(r.randint(0, 4)):
        content[m.key()] = m.value(r.choice([1, 5, 20, 60]), floats=False)

    event = {
        "room_id": "!%s:%s" % (r.choice(["room", "R00m"]), server),
        "sender": sender,
        "type": etype,
        "content": content,
        "origin_server_ts": r.choice([0, 1000000, 1796569330885, INT_MAX]),
        "depth": r.choice([1, 2, 100, INT_MAX]),
        "prev_events": ["$" + b64url(bytes(r.getrandbits(8) for _ in range(32))) for _ in range(r.randint(0, 3))],
        "auth_events": ["$" + b64url(bytes(r.getrandbits(8) for _ in range(32))) for _ in range(r.randint(0, 4))],
    }
    if etype in ("m.room.member", "m.room.create", "m.room.join_rules", "m.room.power_levels",
                 "m.room.history_visibility", "m.room.topic") or r.random() < 0.2:
        event["state_key"] = sender if etype == "m.room.member" else r.choice(["", m.string(6)])
    if etype == "m.room.redaction" and pick():
        event["redacts"] = "$top"
    # Keys the redaction must drop, or keep only in version 10.
    for name in ["origin", "membership", "prev_state", "unsigned", "event_id", "junk", m.key()]:
        if r.random() < 0.3:
            event[name] = {"origin": server, "membership": "join", "prev_state": [],
                           "unsigned": {"age_ts": 1000000, "x": m.value(5, floats=False)},
                           "event_id": "$e:" + server}.get(name, m.value(5, floats=False))
    if r.random() < 0.3:  # someone else signed already: the signature must stay
        event["signatures"] = {"other.test": {"ed25519:other": b64(bytes(64))}}
    if r.random() < 0.1:  # a stale hash: replaced
        event["hashes"] = {"sha256": "stale"}
    keys = list(event)
    r.shuffle(keys)  # the transport order must not matter
    return {k: event[k] for k in keys}


def transport(value, rng):
    """JSON as another server might send it: keys in any order, any of the
    allowed escapes, optional white space."""
    seps = rng.choice([(",", ":"), (", ", ": ")])
    return json.dumps(value, ensure_ascii=rng.random() < 0.5, separators=seps)


# ---- running ------------------------------------------------------------------

class Run:
    def __init__(self, seed):
        self.seed = seed
        self.failures = []
        self.passed = 0
        self.questions = []  # (line, check(answer) -> None or complaint)

    def ask(self, line, check):
        assert "\n" not in line
        self.questions.append((line, check))

    def run(self, tool):
        text = "".join(line + "\n" for line, _ in self.questions)
        proc = subprocess.run([tool, SEED_B64], input=text.encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=600)
        if proc.returncode != 0:
            self.failures.append("the tool exited with %d: %s" % (proc.returncode, proc.stderr.decode()[-2000:]))
            return
        answers = proc.stdout.decode().split("\n")
        if len(answers) - 1 != len(self.questions):
            self.failures.append("%d questions, %d answers" % (len(self.questions), len(answers) - 1))
            return
        for i, ((line, check), answer) in enumerate(zip(self.questions, answers)):
            try:
                complaint = check(answer)
            except Exception as e:  # e.g. signedjson refusing a signature
                complaint = "%s: %s" % (type(e).__name__, e)
            if complaint:
                self.failures.append("#%d: %s\n  asked:    %s\n  answered: %s" % (i, complaint, line[:600], answer[:600]))
            else:
                self.passed += 1


def check_value(value):
    expect_valid = valid(value)

    def check(answer):
        fields = answer.split("\t")
        if len(fields) != 3:
            return "malformed answer"
        if fields[0] != ("1" if expect_valid else "0"):
            return "validator says %s, expected %s" % (fields[0], int(expect_valid))
        if expect_valid:
            want = encode_canonical_json(value).hex()
            if fields[2] != want:
                return "canonical bytes differ; expected %s" % want
        return None
    return check


def check_event(event, version, key):
    if not valid(event):
        return lambda answer: None if answer.startswith("refused\t") else "a non-canonical event was accepted"
    expect = hash_and_sign(event, version, key)

    def check(answer):
        fields = answer.split("\t")
        if fields[0] != "ok" or len(fields) != 6:
            return "hometab refused or answered badly"
        want = {
            "content hash": expect["hashes"]["sha256"],
            "event id": event_id(expect, version),
            "redacted form": encode_canonical_json(redact(expect, version)).hex(),
            "signed event": encode_canonical_json(expect).hex(),
            "own checks": "1,1",
        }
        got = dict(zip(want, fields[1:]))
        for name in want:
            if got[name] != want[name]:
                return "%s differs; expected %s" % (name, want[name][:400])
        # And the signature verifies with signedjson, independently.
        signed = json.loads(bytes.fromhex(fields[4]))
        signedjson.sign.verify_signed_json(redact(signed, version), server_of(event["sender"]),
                                          signedjson.key.get_verify_key(key))
        return None
    return check


def check_key_object(server, now, key):
    def check(answer):
        obj = json.loads(answer)
        if set(obj) != {"server_name", "verify_keys", "old_verify_keys", "valid_until_ts", "signatures"}:
            return "unexpected members %s" % sorted(obj)
        if obj["server_name"] != server or obj["valid_until_ts"] != now + 7 * 24 * 3600 * 1000:
            return "server_name or valid_until_ts wrong"
        public = b64(key.verify_key.encode())
        if obj["verify_keys"] != {"ed25519:1": {"key": public}}:
            return "verify_keys wrong"
        if SEED_B64[:20] in answer or b64(key.encode())[:20] in answer:
            return "the seed is in the key object"
        verify_key = signedjson.key.decode_verify_key_base64("ed25519", "1", obj["verify_keys"]["ed25519:1"]["key"])
        signedjson.sign.verify_signed_json(obj, server, verify_key)
        if encode_canonical_json(obj).decode() != answer:
            return "the key object is not written canonically"
        return None
    return check


def key_object_questions(run, rng, key):
    """Key objects made by signedjson, as Synapse publishes them, good and bad."""
    now = 1796569330885
    other = nacl.signing.SigningKey.generate()
    other.alg, other.version = "ed25519", "b_" + str(rng.randint(0, 99))
    for case in ["good", "good_far", "good_two_keys", "expired", "wrong_server", "tampered",
                 "unsigned", "unknown_key_only", "bad_public_key"]:
        server = rng.choice(["example.org", "h\u00f6me.test:8448"])
        obj = {"server_name": server, "old_verify_keys": {},
               "valid_until_ts": now + (3600 * 1000 if case != "good_far" else 10**12),
               "verify_keys": {"ed25519:1": {"key": b64(key.verify_key.encode())}}}
        if case == "good_two_keys":
            obj["verify_keys"]["ed25519:" + other.version] = {"key": b64(other.verify_key.encode())}
            signedjson.sign.sign_json(obj, server, other)
        if case == "expired":
            obj["valid_until_ts"] = now - 1
        if case == "bad_public_key":
            obj["verify_keys"]["ed25519:1"]["key"] = "short"
        if case != "unsigned":
            signedjson.sign.sign_json(obj, server, other if case == "unknown_key_only" else key)
        if case == "tampered":
            obj["valid_until_ts"] += 1
        asked_for = "other.test" if case == "wrong_server" else server
        want_ok = case.startswith("good")
        want_until = min(obj["valid_until_ts"], now + 7 * 24 * 3600 * 1000)

        def check(answer, want_ok=want_ok, want_until=want_until, case=case):
            fields = answer.split("\t")
            if want_ok and fields != ["ok", str(want_until)]:
                return "a good key object (%s) was not accepted as usable until %d" % (case, want_until)
            if not want_ok and fields[0] != "refused":
                return "a bad key object (%s) was accepted" % case
            return None
        run.ask("V\t%s\t%d\t%s" % (asked_for, now, transport(obj, rng)), check)
    server = "example.org"
    run.ask("K\t%s\t%d" % (server, now), check_key_object(server, now, key))


def differential(args):
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    print("differential: seed %d (replay with DIFFERENTIAL_SEED=%d)" % (seed, seed), flush=True)
    rng = random.Random(seed)
    key = signing_key()
    run = Run(seed)
    values = Maker(rng, allow_nul=True)
    # The spec appendix's examples, then edge values, then random ones.
    for fixed in [{}, {"one": 1, "two": "Two"}, {"b": "2", "a": "1"}, {"a": "\u65e5\u672c\u8a9e"},
                  {"\u672c": 2, "\u65e5": 1}, {"a": None}, "".join(HOSTILE_CHARS),
                  {k: i for i, k in enumerate(HOSTILE_KEYS)}, INTEGERS, FLOATS,
                  values.nested(MAX_DEPTH - 1), values.nested(MAX_DEPTH), values.nested(MAX_DEPTH + 1)]:
        run.ask("C\t" + transport(fixed, rng), check_value(fixed))
    for _ in range(args.count):
        v = values.value(rng.choice([1, 10, 50, 200]))
        if rng.random() < 0.05:
            v = values.nested(rng.randint(1, 300))
        run.ask("C\t" + transport(v, rng), check_value(v))
    strict = Maker(rng, allow_nul=False)  # events are parsed strictly: no U+0000
    for _ in range(args.count // 2):
        version = rng.choice([10, 11])
        event = random_event(strict, version)
        run.ask("E%d\t%s" % (version, transport(event, rng)), check_event(event, version, key))
    key_object_questions(run, rng, key)
    run.run(args.tool)
    for failure in run.failures[:20]:
        print("FAIL " + failure)
    if len(run.failures) > 20:
        print("... and %d more" % (len(run.failures) - 20))
    print("differential: %d passed, %d failed" % (run.passed, len(run.failures)))
    return 1 if run.failures else 0


# ---- the unit tests' expected values ------------------------------------------

def c_string(text):
    """A C string literal of text's UTF-8 bytes: printable ASCII as it is,
    everything else in octal (which, unlike \\x, cannot run on)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\?':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append("\\%03o" % byte)
    return '"' + "".join(out) + '"'


def vectors():
    """Prints the table of tests/unit/test_pdu.c: the events of vectors.json
    with their content hash, event ids and redacted forms in room versions
    10 and 11, computed here (Synapse's libraries and this file's
    redaction), as C initialisers."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")) as f:
        events = json.load(f)
    for name, event in events.items():
        hashed = dict(event)
        hashed["hashes"] = {"sha256": content_hash(event)}
        print("    {%s," % c_string(name))
        print("     %s," % c_string(encode_canonical_json(event).decode()))
        print("     %s, %s, %s," % (c_string(hashed["hashes"]["sha256"]), c_string(event_id(hashed, 10)),
                                    c_string(event_id(hashed, 11))))
        print("     %s," % c_string(encode_canonical_json(redact(event, 10)).decode()))
        print("     %s}," % c_string(encode_canonical_json(redact(event, 11)).decode()))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tool", help="hometab's side: build/native/canonical-tool")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--vectors", action="store_true")
    args = parser.parse_args()
    if args.vectors:
        return vectors()
    if not args.tool:
        parser.error("--tool is required")
    return differential(args)


if __name__ == "__main__":
    sys.exit(main())
