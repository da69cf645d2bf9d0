// The table the attack suite ends with: one row per attack, what was
// expected and what was observed. Rows are recorded by the cases (from
// what they measured, never a constant); at the end of the run a doctest
// listener prints the table and writes it, as Markdown, to
// BUILD/tests/attacks/attacks.md.
#pragma once

#include <string>

namespace attacks {

// Adds a row. `held`: the case's own assertions about this attack passed
// (false rows show "NO" and the case fails too).
void record(const std::string& attack, const std::string& expected, const std::string& observed, bool held);

}  // namespace attacks
