"""Sums the conformance suite's per-scenario check counts, separating scored scenarios from the
ones a --requirements run lists as "not scored", and prints one summary line."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
unscored = set(re.findall(r"^\s+[✓✗] (\S+) \(", text, re.M))
scored_pass = scored_fail = other_pass = other_fail = scenarios = 0
for name, p, f in re.findall(r"^[✓✗] (\S+): (\d+) passed, (\d+) failed", text, re.M):
    if name in unscored:
        other_pass += int(p)
        other_fail += int(f)
    else:
        scenarios += 1
        scored_pass += int(p)
        scored_fail += int(f)
print(
    f"scored scenarios {scenarios}, their checks {scored_pass} passed / {scored_fail} failed; "
    f"unscored scenarios' checks {other_pass} passed / {other_fail} failed"
)
