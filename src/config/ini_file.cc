#include "config/ini_file.h"

#include <ini.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace bagpipe::config {

namespace {

bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    return s;
}

// What the reader learnt about the line it last handed to inih, used by the
// handler (inih's handler gets neither the line number nor, in Debian's build,
// section names longer than 49 characters).
struct ParseState {
    std::string_view text;
    size_t pos = 0;
    int line = 0;
    bool line_indented = false;  // starts with a space or tab: a continuation line
    bool line_bad = false;       // already reported; the handler ignores it
    int section = -1;            // index in doc->sections, -1 before the first header
    bool value_open = false;     // the previous line was an option or its continuation
    IniDocument* doc = nullptr;

    void Error(std::string message) {
        doc->errors.push_back(fmt::format("{}:{}: {}", doc->file_name, line, message));
        line_bad = true;
    }

    void OpenSection(std::string_view name) {
        for (size_t i = 0; i < doc->sections.size(); ++i) {
            if (EqualsIgnoreCase(doc->sections[i].name, name)) {
                section = static_cast<int>(i);
                return;
            }
        }
        doc->sections.push_back(IniSection{std::string(name), line, {}});
        section = static_cast<int>(doc->sections.size()) - 1;
    }

    // Classifies the line as oslo.config would, reports what it refuses and
    // tracks section headers.
    void Analyse(std::string_view content) {
        line_bad = false;
        if (line == 1 && content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
        line_indented = !content.empty() && (content.front() == ' ' || content.front() == '\t');
        std::string_view t = Trim(content);
        if (t.empty()) {
            value_open = false;
            return;
        }
        if (t.front() == '#' || t.front() == ';') {
            // inih skips comments even when indented; they do not end a value.
            line_indented = false;
            return;
        }
        if (line_indented) {
            if (!value_open)
                Error("unexpected continuation line (indented line not following an option)");
            return;
        }
        value_open = false;
        if (t.front() == '[') {
            size_t close = t.find(']');
            if (close == std::string_view::npos) return Error("unterminated section header");
            std::string_view name = Trim(t.substr(1, close - 1));
            if (name.empty()) return Error("empty section name");
            if (!Trim(t.substr(close + 1)).empty())
                return Error("unexpected text after the section header");
            OpenSection(name);
            line_bad = true;  // nothing for the handler
            return;
        }
        size_t sep = t.find_first_of("=:");
        if (sep == std::string_view::npos) return Error("expected \"name = value\"");
        if (Trim(t.substr(0, sep)).empty()) return Error("missing option name before '='");
        if (section < 0) return Error("option outside of any [section]");
        value_open = true;
    }
};

char* Reader(char* buf, int num, void* stream) {
    auto* st = static_cast<ParseState*>(stream);
    if (st->pos >= st->text.size()) return nullptr;
    size_t nl = st->text.find('\n', st->pos);
    size_t end = nl == std::string_view::npos ? st->text.size() : nl;
    std::string_view content = st->text.substr(st->pos, end - st->pos);
    st->pos = nl == std::string_view::npos ? st->text.size() : nl + 1;
    ++st->line;
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    if (content.find('\0') != std::string_view::npos) {
        st->Error("NUL character in line");
        content = {};
    } else if (content.size() > kMaxIniLineLength ||
               content.size() + 2 > static_cast<size_t>(num)) {
        st->value_open = false;
        st->Error(fmt::format("line is longer than {} characters", kMaxIniLineLength));
        content = {};
    } else {
        st->Analyse(content);
        // Lines we already refused (and section headers) go to inih as blank
        // lines so that its own state (the option a continuation belongs to)
        // follows ours.
        if (st->line_bad && !content.empty() && !Trim(content).starts_with('[')) content = {};
    }
    if (!content.empty()) std::memcpy(buf, content.data(), content.size());
    buf[content.size()] = '\n';
    buf[content.size() + 1] = '\0';
    return buf;
}

int Handler(void* user, const char* /*section*/, const char* name, const char* value) {
    auto* st = static_cast<ParseState*>(user);
    if (st->line_bad || st->section < 0 || name == nullptr) return 1;
    IniSection& sec = st->doc->sections[static_cast<size_t>(st->section)];
    std::string_view v = value ? value : "";
    if (st->line_indented) {
        if (!sec.entries.empty()) {
            IniEntry& last = sec.entries.back();
            last.value.push_back('\n');
            last.value.append(v);
        }
        return 1;
    }
    if (v.size() >= 2 && v.front() == v.back() && (v.front() == '"' || v.front() == '\''))
        v = v.substr(1, v.size() - 2);
    sec.entries.push_back(IniEntry{std::string(Trim(name)), std::string(v), st->line});
    return 1;
}

// inih's knobs are process-wide variables: set them, and parse, under a lock.
std::mutex& InihMutex() {
    static std::mutex m;
    return m;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

const IniSection* IniDocument::Find(std::string_view name) const {
    for (const auto& s : sections)
        if (EqualsIgnoreCase(s.name, name)) return &s;
    return nullptr;
}

IniDocument ParseIni(std::string_view text, std::string file_name) {
    IniDocument doc;
    doc.file_name = std::move(file_name);
    ParseState st;
    st.text = text;
    st.doc = &doc;
    std::lock_guard lock(InihMutex());
    ini_max_line = static_cast<int>(kMaxIniLineLength) + 3;  // + '\r', '\n', '\0'
    ini_use_stack = true;            // Debian's build sizes the stack buffer from ini_max_line
    ini_allow_multiline = true;
    ini_allow_inline_comments = false;  // oslo.config has none: `;` may be in a password
    ini_allow_bom = true;
    ini_stop_on_first_error = false;
    ini_allow_no_value = false;
    // The return value (first line inih rejected) is not used: the reader
    // already reported every malformed line, with a reason.
    ini_parse_stream(Reader, &st, Handler, &st);
    return doc;
}

IniDocument ReadIniFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        IniDocument doc;
        doc.file_name = path;
        doc.readable = false;
        doc.errors.push_back(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
        return doc;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ParseIni(ss.str(), path);
}

}  // namespace bagpipe::config
