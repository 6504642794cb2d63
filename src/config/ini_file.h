// A thin wrapper over inih that reads an INI file the way oslo.config (the
// parser of the original bagpipe-bgp) does, keeping the line of every option.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bagpipe::config {

// The longest line accepted (excluding the line break). Debian's inih would
// silently truncate lines beyond 200 bytes; we raise its runtime limit and
// report longer lines as errors instead of truncating them.
inline constexpr size_t kMaxIniLineLength = 4096;

struct IniEntry {
    std::string key;
    std::string value;  // continuation lines joined with '\n'
    int line = 0;       // line of the `key = value` line (1-based)
};

struct IniSection {
    std::string name;  // as written between the brackets, trimmed
    int line = 0;      // line of its first header
    std::vector<IniEntry> entries;  // in file order; duplicates kept (the loader reports them)
};

// The sections of one INI text in order of first appearance. A section whose
// name appears again (compared case-insensitively, as oslo.config does) is
// merged into the first one. Syntax follows oslo.config's iniparser:
//   * `key = value` or `key: value`, split at the first `=` or `:`;
//   * whole-line comments start with `#` or `;`; there are no inline comments;
//   * an indented line continues the value of the option just above it
//     (joined with '\n'); a blank line ends the value;
//   * a value wrapped in matching single or double quotes loses the quotes.
// `errors` holds "file:line: message" for every malformed line.
struct IniDocument {
    std::string file_name;
    std::vector<IniSection> sections;
    std::vector<std::string> errors;
    bool readable = true;  // false: ReadIniFile could not read the file

    const IniSection* Find(std::string_view name) const;  // case-insensitive
};

IniDocument ParseIni(std::string_view text, std::string file_name);

// Reads and parses `path`; a file that cannot be read gives one error.
IniDocument ReadIniFile(const std::string& path);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace bagpipe::config
