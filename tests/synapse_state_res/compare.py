#!/usr/bin/python3
"""compare.py -- hometab's authorization rules and state resolution against
Synapse 1.67's own code, on seeded random forks of a room (room version 10,
the last Synapse 1.67 knows).

Each scenario builds a room as servers would: every event cites, as auth
events, what Synapse's auth events selection names in the state before it.
Random people send random events (topics, names, memberships of every kind,
restricted joins with authorisers, join rules, power levels with users,
events and notifications maps, state keys naming users, messages) on two to
four branches. Every event is judged by both implementations against its
branch's state (Synapse: check_state_dependent_auth_rules; hometab:
ht_auth_check_pdu), and their verdicts must agree. An allowed event joins its
branch's state; now and then a refused one does too, marked rejected (a
state another server handed over). Then both resolve the branches' states
(Synapse: synapse.state.v2.resolve_events_with_store) and must give the same
state.

Synapse's own database computes the auth difference (its storage layer, not
state/v2.py), counting each state's own events in its auth chain; the store
below does the same.

usage: compare.py SYNAPSE_SOURCE_DIR RESOLVE_TOOL [--seed N] [--count N] [--failures FILE]
A failure prints the seed and appends the question that got two answers to
FILE (build/state-res-failure.jsonl), which resolve_tool reads as it is.
"""
import argparse
import json
import random
import subprocess
import sys

ROOM = "!room:x"
PEOPLE = ["@alice:x", "@bob:x", "@carol:x", "@dave:y", "@erin:y", "@frank:x"]


def load_synapse(path):
    sys.path.insert(0, path)
    global RoomVersions, make_event_from_dict, event_auth, AuthError, SynapseError, v2, defer
    from synapse.api.room_versions import RoomVersions
    from synapse.events import make_event_from_dict
    from synapse import event_auth
    from synapse.api.errors import AuthError, SynapseError
    from synapse.state import v2
    from twisted.internet import defer


class Clock:
    def sleep(self, duration_ms):
        return defer.succeed(None)


class Store:
    """Synapse's StateResolutionStore protocol over the scenario's events."""

    def __init__(self, events):
        self.events = events

    def get_events(self, event_ids, allow_rejected=False):
        return defer.succeed({e: self.events[e] for e in event_ids if e in self.events and
                              (allow_rejected or not self.events[e].rejected_reason)})

    def _chain(self, ids):
        seen, stack = set(), list(ids)
        while stack:
            e = stack.pop()
            if e in seen:
                continue
            seen.add(e)
            stack.extend(self.events[e].auth_event_ids())
        return seen

    def get_auth_chain_difference(self, room_id, state_sets):
        chains = [self._chain(s) for s in state_sets]
        return defer.succeed(set.union(*chains) - set.intersection(*chains))


def run_now(coroutine):
    result = []
    defer.ensureDeferred(coroutine).addBoth(result.append)
    if isinstance(result[0], Exception) or hasattr(result[0], "raiseException"):
        result[0].raiseException()
    return result[0]


class Scenario:
    def __init__(self, rng):
        self.rng = rng
        self.events = {}  # event id -> Synapse event
        self.order = []   # event ids, in the order made
        self.checks = []  # (state dict, event id, Synapse's verdict)
        self.ts = 1000
        self.depth = 0

    def make(self, sender, type_, state_key, content, prev, state, rejected=False):
        probe = {"room_id": ROOM, "sender": sender, "type": type_, "content": content,
                 "prev_events": [], "auth_events": [], "origin_server_ts": 0, "depth": 1,
                 "hashes": {"sha256": "x"}, "signatures": {}}
        if state_key is not None:
            probe["state_key"] = state_key
        keys = event_auth.auth_types_for_event(RoomVersions.V10, make_event_from_dict(probe, RoomVersions.V10))
        auth = sorted(state[k] for k in keys if k in state)
        self.ts += self.rng.choice([0, 1, 1, 2])  # ties now and then
        self.depth += 1
        pdu = dict(probe, prev_events=list(prev), auth_events=auth, origin_server_ts=self.ts, depth=self.depth)
        event = make_event_from_dict(pdu, RoomVersions.V10, rejected_reason="auth" if rejected else None)
        self.events[event.event_id] = event
        self.order.append(event.event_id)
        return event

    def allowed(self, event, state):
        """Synapse's verdict on the event against a state (rejected events do not count)."""
        keys = event_auth.auth_types_for_event(RoomVersions.V10, event)
        auth = [self.events[state[k]] for k in keys if k in state and not self.events[state[k]].rejected_reason]
        try:
            event_auth.check_state_dependent_auth_rules(event, auth)
            return True
        except (AuthError, SynapseError):
            return False

    def levels(self):
        rng = self.rng
        content = {"users": {"@alice:x": 100}}
        for p in rng.sample(PEOPLE[1:], rng.randint(0, 4)):
            content["users"][p] = rng.choice([0, 10, 50, 75, 100])
        for key in ("users_default", "state_default", "events_default", "kick", "ban", "invite", "redact"):
            if rng.random() < 0.15:
                content[key] = rng.choice([0, 25, 50, 100])
        if rng.random() < 0.3:
            content["events"] = {t: rng.choice([0, 50, 100]) for t in rng.sample(
                ["m.room.topic", "m.room.name", "m.room.power_levels", "m.room.join_rules"], rng.randint(1, 2))}
        if rng.random() < 0.3:
            content["notifications"] = {"room": rng.choice([0, 50, 100])}
        return content

    def random_event(self):
        """(sender, type, state_key, content) of some random event."""
        rng = self.rng
        sender, target = rng.choice(PEOPLE), rng.choice(PEOPLE)
        kind = rng.randrange(9)
        if kind == 0:
            return sender, "m.room.topic", "", {"topic": "t%d" % rng.randrange(1000)}
        if kind == 1:
            return sender, "m.room.name", "", {"name": "n%d" % rng.randrange(1000)}
        if kind in (2, 3):
            membership = rng.choice(["join", "join", "leave", "leave", "ban", "invite", "knock"])
            content = {"membership": membership}
            if membership == "join" and rng.random() < 0.3:
                content["join_authorised_via_users_server"] = rng.choice(PEOPLE)
            if membership in ("join", "leave", "knock") and rng.random() < 0.6:
                target = sender
            return sender, "m.room.member", target, content
        if kind == 4:
            rule = rng.choice(["public", "invite", "knock", "restricted", "knock_restricted", "private"])
            content = {"join_rule": rule}
            if "restricted" in rule:
                content["allow"] = [{"type": "m.room_membership", "room_id": "!space:x"}]
            return sender, "m.room.join_rules", "", content
        if kind == 5:
            return sender, "m.room.power_levels", "", self.levels()
        if kind == 6:
            return sender, "org.example.status", rng.choice(["", target]), {"v": rng.randrange(10)}
        if kind == 7:
            return sender, "m.room.message", None, {"body": "hi"}
        return sender, "m.room.member", sender, {"membership": "join", "displayname": "d%d" % rng.randrange(99)}

    def step(self, branch):
        state, prev = branch
        sender, type_, state_key, content = self.random_event()
        event = self.make(sender, type_, state_key, content, prev, state)
        verdict = self.allowed(event, state)
        self.checks.append((dict(state), event.event_id, verdict))
        if verdict or (state_key is not None and self.rng.random() < 0.1):
            if not verdict:  # kept anyway, as rejected: remake it flagged
                event = self.make(sender, type_, state_key, content, prev, state, rejected=True)
            if state_key is not None:
                state[(type_, state_key)] = event.event_id
            return (state, [event.event_id])
        return branch


def build(rng):
    s = Scenario(rng)
    state, prev = {}, []
    opening = [
        ("@alice:x", "m.room.create", "", {"creator": "@alice:x", "room_version": "10"}),
        ("@alice:x", "m.room.member", "@alice:x", {"membership": "join"}),
        ("@alice:x", "m.room.power_levels", "", {"users": {"@alice:x": 100, "@bob:x": 50, "@dave:y": 50}}),
        ("@alice:x", "m.room.join_rules", "", {"join_rule": "public"}),
        ("@bob:x", "m.room.member", "@bob:x", {"membership": "join"}),
        ("@carol:x", "m.room.member", "@carol:x", {"membership": "join"}),
        ("@dave:y", "m.room.member", "@dave:y", {"membership": "join"}),
    ]
    for sender, type_, state_key, content in opening:
        e = s.make(sender, type_, state_key, content, prev, state)
        state[(type_, state_key)] = e.event_id
        prev = [e.event_id]
    for _ in range(rng.randint(0, 6)):  # some shared history
        state, prev = s.step((state, prev))
    branches = []
    for _ in range(rng.randint(2, 4)):
        branch = (dict(state), list(prev))
        for _ in range(rng.randint(1, 8)):
            branch = s.step(branch)
        branches.append(branch)
    return s, [b[0] for b in branches]


def event_lines(s):
    return [{"event_id": e, "rejected": bool(s.events[e].rejected_reason), "pdu": s.events[e].get_pdu_json()}
            for e in s.order]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("synapse")
    parser.add_argument("tool")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--failures", default="build/state-res-failure.jsonl")
    args = parser.parse_args()
    load_synapse(args.synapse)
    print("state resolution against Synapse 1.67: seed %d, %d scenarios" % (args.seed, args.count))
    rng = random.Random(args.seed)
    lines, expected = [], []
    checks = resolutions = conflicted = 0
    for n in range(args.count):
        s, states = build(rng)
        events = event_lines(s)
        for state, event_id, verdict in s.checks:
            lines.append(json.dumps({"room_version": "10", "events": events, "check": event_id,
                                     "state": sorted(state.values())}))
            expected.append(("check", n, event_id, verdict))
            checks += 1
        ids = [sorted(st.values()) for st in states]
        resolved = run_now(v2.resolve_events_with_store(Clock(), ROOM, RoomVersions.V10, states, None,
                                                       Store(s.events)))
        lines.append(json.dumps({"room_version": "10", "events": events, "states": ids}))
        expected.append(("resolve", n, None, sorted(resolved.values())))
        resolutions += 1
        conflicted += any(st != states[0] for st in states)
    out = subprocess.run([args.tool], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return 1
    answers = out.stdout.splitlines()
    assert len(answers) == len(lines), (len(answers), len(lines))
    failures = 0
    for line, answer, (kind, n, event_id, want) in zip(lines, answers, expected):
        got = json.loads(answer)
        if kind == "check":
            agree = got["ok"] == want
        else:
            agree = got["ok"] and got["state"] == want
        if not agree:
            failures += 1
            if failures <= 5:
                print("seed %d scenario %d: %s differs: Synapse %s, hometab %s" %
                      (args.seed, n, kind + (" of " + event_id if event_id else ""), want, got), file=sys.stderr)
            with open(args.failures, "a") as f:
                f.write(line + "\n")
    print("%d auth verdicts and %d resolutions (%d with conflicts) compared: %d differ" %
          (checks, resolutions, conflicted, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
