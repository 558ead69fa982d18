// The JSON writer: structure, commas, escaping, non-finite numbers.
#include <gtest/gtest.h>

#include "json.hpp"

using kmodlab::JsonWriter;

TEST(Json, CompactStructure)
{
	JsonWriter j(false);
	j.begin_object();
	j.kv("a", uint64_t{1}).kv("s", "x\"y\\z\n\x01");
	j.key("arr").begin_array().value(uint64_t{1}).value(2.5).value(true).null().end_array();
	j.key("empty").begin_object().end_object();
	j.key("raw").raw("{\"k\":[]}");
	j.kv("nan", 0.0 / 0.0);
	j.end_object();
	EXPECT_EQ(j.str(), "{\"a\":1,\"s\":\"x\\\"y\\\\z\\n\\u0001\",\"arr\":[1,2.5,true,null],\"empty\":{},"
			   "\"raw\":{\"k\":[]},\"nan\":null}");
}
