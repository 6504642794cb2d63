// Bounds-checked big-endian cursor (Reader) and appender (Writer) over raw bytes.
//
// The whole wire codec reads through Reader and writes through Writer, so that
// no decoder ever indexes past the end of untrusted input. Reader never throws:
// every Read* returns false when the input is short and leaves the cursor where
// it was. Writer appends to a caller-owned std::vector and can reserve a length
// field that is patched once the body is known.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace bagpipe::bgp {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

class Reader {
public:
    Reader() = default;
    explicit Reader(ByteView data) : p_(data.data()), end_(data.data() + data.size()) {}
    Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}

    size_t remaining() const { return static_cast<size_t>(end_ - p_); }
    bool empty() const { return p_ == end_; }
    bool Has(size_t n) const { return remaining() >= n; }
    const uint8_t* data() const { return p_; }
    ByteView rest() const { return {p_, remaining()}; }

    bool ReadU8(uint8_t& v) {
        if (p_ == end_) return false;
        v = *p_++;
        return true;
    }
    bool ReadU16(uint16_t& v) {
        if (!Has(2)) return false;
        v = static_cast<uint16_t>((p_[0] << 8) | p_[1]);
        p_ += 2;
        return true;
    }
    bool ReadU24(uint32_t& v) {
        if (!Has(3)) return false;
        v = (uint32_t{p_[0]} << 16) | (uint32_t{p_[1]} << 8) | p_[2];
        p_ += 3;
        return true;
    }
    bool ReadU32(uint32_t& v) {
        if (!Has(4)) return false;
        v = (uint32_t{p_[0]} << 24) | (uint32_t{p_[1]} << 16) | (uint32_t{p_[2]} << 8) | p_[3];
        p_ += 4;
        return true;
    }
    bool ReadBytes(size_t n, ByteView& out) {
        if (!Has(n)) return false;
        out = {p_, n};
        p_ += n;
        return true;
    }
    bool ReadInto(uint8_t* dst, size_t n) {
        if (!Has(n)) return false;
        std::memcpy(dst, p_, n);
        p_ += n;
        return true;
    }
    bool Skip(size_t n) {
        if (!Has(n)) return false;
        p_ += n;
        return true;
    }
    // Splits off the next n bytes as their own Reader.
    bool Sub(size_t n, Reader& out) {
        if (!Has(n)) return false;
        out = Reader(p_, n);
        p_ += n;
        return true;
    }

private:
    const uint8_t* p_ = nullptr;
    const uint8_t* end_ = nullptr;
};

class Writer {
public:
    explicit Writer(Bytes& out) : out_(out) {}

    size_t size() const { return out_.size(); }
    void PutU8(uint8_t v) { out_.push_back(v); }
    void PutU16(uint16_t v) {
        uint8_t* p = Grow(2);
        p[0] = static_cast<uint8_t>(v >> 8);
        p[1] = static_cast<uint8_t>(v);
    }
    void PutU24(uint32_t v) {
        uint8_t* p = Grow(3);
        p[0] = static_cast<uint8_t>(v >> 16);
        p[1] = static_cast<uint8_t>(v >> 8);
        p[2] = static_cast<uint8_t>(v);
    }
    void PutU32(uint32_t v) {
        uint8_t* p = Grow(4);
        p[0] = static_cast<uint8_t>(v >> 24);
        p[1] = static_cast<uint8_t>(v >> 16);
        p[2] = static_cast<uint8_t>(v >> 8);
        p[3] = static_cast<uint8_t>(v);
    }
    // Appends n octets and returns a pointer to them (valid until the next append).
    uint8_t* Grow(size_t n) {
        size_t at = out_.size();
        out_.resize(at + n);
        return out_.data() + at;
    }
    void PutBytes(ByteView b) { PutBytes(b.data(), b.size()); }
    void PutBytes(const uint8_t* p, size_t n) {
        if (n) std::memcpy(Grow(n), p, n);
    }
    void PutZeros(size_t n) { out_.insert(out_.end(), n, 0); }

    // Reserves a 1- or 2-octet length slot; Patch* writes the number of bytes
    // appended since the reservation.
    size_t Reserve(size_t n) {
        size_t at = out_.size();
        out_.insert(out_.end(), n, 0);
        return at;
    }
    void PatchU8(size_t at, uint8_t v) { out_[at] = v; }
    void PatchU16(size_t at, uint16_t v) {
        out_[at] = static_cast<uint8_t>(v >> 8);
        out_[at + 1] = static_cast<uint8_t>(v);
    }

    Bytes& buffer() { return out_; }

private:
    Bytes& out_;
};

}  // namespace bagpipe::bgp
