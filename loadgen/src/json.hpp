// json.hpp - a small streaming JSON writer: enough for kmodlab-load's
// output, with correct string escaping and no dependency.  Objects and
// arrays are opened and closed explicitly; commas are tracked per level.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace kmodlab {

class JsonWriter {
public:
	explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

	JsonWriter &begin_object() { value_prefix(); out_ += '{'; stack_.push_back(true); return *this; }
	JsonWriter &end_object() { close('}'); return *this; }
	JsonWriter &begin_array() { value_prefix(); out_ += '['; stack_.push_back(true); return *this; }
	JsonWriter &end_array() { close(']'); return *this; }

	JsonWriter &key(std::string_view k)
	{
		separator();
		string_literal(k);
		out_ += pretty_ ? ": " : ":";
		after_key_ = true;
		return *this;
	}
	JsonWriter &value(std::string_view s) { value_prefix(); string_literal(s); return *this; }
	JsonWriter &value(const char *s) { return value(std::string_view(s)); }
	JsonWriter &value(const std::string &s) { return value(std::string_view(s)); }
	JsonWriter &value(bool b) { value_prefix(); out_ += b ? "true" : "false"; return *this; }
	JsonWriter &value(uint64_t v) { value_prefix(); out_ += std::to_string(v); return *this; }
	JsonWriter &value(int64_t v) { value_prefix(); out_ += std::to_string(v); return *this; }
	JsonWriter &value(int v) { return value(static_cast<int64_t>(v)); }
	JsonWriter &value(unsigned v) { return value(static_cast<uint64_t>(v)); }
	JsonWriter &value(double d)
	{
		value_prefix();
		if (!std::isfinite(d)) {
			out_ += "null";  // JSON has no NaN/Inf
			return *this;
		}
		char buf[64];
		// %.17g round-trips; trim to something readable where exact.
		if (d == std::floor(d) && std::fabs(d) < 1e15)
			std::snprintf(buf, sizeof(buf), "%.1f", d);
		else
			std::snprintf(buf, sizeof(buf), "%.6g", d);
		out_ += buf;
		return *this;
	}
	JsonWriter &null() { value_prefix(); out_ += "null"; return *this; }
	// Splice an already serialized JSON value (e.g. the BPF session's).
	JsonWriter &raw(std::string_view json) { value_prefix(); out_ += json; return *this; }

	template <typename T> JsonWriter &kv(std::string_view k, T v) { key(k); return value(v); }

	const std::string &str() const { return out_; }

private:
	void newline()
	{
		if (!pretty_)
			return;
		out_ += '\n';
		out_.append(stack_.size() * 2, ' ');
	}
	void separator()
	{
		if (stack_.empty())
			return;
		if (!stack_.back())
			out_ += ',';
		stack_.back() = false;
		newline();
	}
	void value_prefix()
	{
		if (after_key_) {
			after_key_ = false;
			return;
		}
		separator();
	}
	void close(char c)
	{
		const bool empty = stack_.back();
		stack_.pop_back();
		if (!empty)
			newline();
		out_ += c;
	}
	void string_literal(std::string_view s)
	{
		out_ += '"';
		for (unsigned char c : s) {
			switch (c) {
			case '"': out_ += "\\\""; break;
			case '\\': out_ += "\\\\"; break;
			case '\n': out_ += "\\n"; break;
			case '\r': out_ += "\\r"; break;
			case '\t': out_ += "\\t"; break;
			default:
				if (c < 0x20) {
					char buf[8];
					std::snprintf(buf, sizeof(buf), "\\u%04x", c);
					out_ += buf;
				} else {
					out_ += static_cast<char>(c);
				}
			}
		}
		out_ += '"';
	}

	bool pretty_;
	bool after_key_ = false;
	std::vector<bool> stack_;  // per open level: "nothing written yet"
	std::string out_;
};

}  // namespace kmodlab
