// Option parsing: units, mixes, required combinations, clear errors.
#include <gtest/gtest.h>

#include <vector>

#include "options.hpp"

using namespace kmodlab;

static bool parse(std::vector<const char *> args, Options *o, std::string *err)
{
	args.insert(args.begin(), "kmodlab-load");
	return parse_options(static_cast<int>(args.size()), args.data(), o, err);
}

TEST(Options, Sizes)
{
	uint64_t v;
	EXPECT_TRUE(parse_size("4096", &v)); EXPECT_EQ(v, 4096u);
	EXPECT_TRUE(parse_size("4k", &v)); EXPECT_EQ(v, 4096u);
	EXPECT_TRUE(parse_size("64KiB", &v)); EXPECT_EQ(v, 65536u);
	EXPECT_TRUE(parse_size("1M", &v)); EXPECT_EQ(v, 1u << 20);
	EXPECT_FALSE(parse_size("", &v));
	EXPECT_FALSE(parse_size("-1", &v));
	EXPECT_FALSE(parse_size("4x", &v));
	EXPECT_FALSE(parse_size("k", &v));
}

TEST(Options, Durations)
{
	double s;
	EXPECT_TRUE(parse_duration("10", &s)); EXPECT_DOUBLE_EQ(s, 10);
	EXPECT_TRUE(parse_duration("2s", &s)); EXPECT_DOUBLE_EQ(s, 2);
	EXPECT_TRUE(parse_duration("500ms", &s)); EXPECT_DOUBLE_EQ(s, 0.5);
	EXPECT_TRUE(parse_duration("1.5m", &s)); EXPECT_DOUBLE_EQ(s, 90);
	EXPECT_FALSE(parse_duration("10h", &s));
	EXPECT_FALSE(parse_duration("-1", &s));
	EXPECT_FALSE(parse_duration("fast", &s));
}

TEST(Options, Counts)
{
	double c;
	EXPECT_TRUE(parse_count("10k", &c)); EXPECT_DOUBLE_EQ(c, 10000);
	EXPECT_TRUE(parse_count("2.5M", &c)); EXPECT_DOUBLE_EQ(c, 2.5e6);
	EXPECT_FALSE(parse_count("10q", &c));
}

TEST(Options, Mix)
{
	std::vector<MixEntry> m;
	std::string err;
	ASSERT_TRUE(parse_mix("read=70,write=30", &m, &err)) << err;
	ASSERT_EQ(m.size(), 2u);
	EXPECT_EQ(m[0].op, "read"); EXPECT_EQ(m[0].weight, 70u);
	EXPECT_EQ(m[1].op, "write"); EXPECT_EQ(m[1].weight, 30u);
	ASSERT_TRUE(parse_mix("ioctl:SCULL_IOCQQUANTUM=5,pread=1", &m, &err)) << err;
	EXPECT_EQ(m[0].op, "ioctl:SCULL_IOCQQUANTUM");
	EXPECT_FALSE(parse_mix("read=70,read=30", &m, &err));
	EXPECT_NE(err.find("twice"), std::string::npos);
	EXPECT_FALSE(parse_mix("read", &m, &err));
	EXPECT_FALSE(parse_mix("read=0", &m, &err));
	EXPECT_FALSE(parse_mix("read=-3", &m, &err));
	EXPECT_FALSE(parse_mix("read=70,", &m, &err));
	EXPECT_FALSE(parse_mix("=5", &m, &err));
}

TEST(Options, FullCommandLine)
{
	Options o;
	std::string err;
	ASSERT_TRUE(parse({"-d", "/dev/scull-c0", "--mix", "read=70,write=30", "--threads", "4", "--ops=10k",
			   "--rate", "5k", "--size", "64k", "--offsets", "rand", "--check", "--json", "x.json",
			   "--warmup", "0", "-q"},
			  &o, &err))
		<< err;
	EXPECT_EQ(o.device, "/dev/scull-c0");
	EXPECT_EQ(o.mix.size(), 2u);
	EXPECT_TRUE(o.mix_given);
	EXPECT_EQ(o.threads, 4u);
	EXPECT_EQ(o.ops, 10000u);
	EXPECT_DOUBLE_EQ(o.rate, 5000);
	EXPECT_EQ(o.size, 65536u);
	EXPECT_TRUE(o.random_offsets);
	EXPECT_TRUE(o.check);
	EXPECT_EQ(o.json_path, "x.json");
	EXPECT_DOUBLE_EQ(o.warmup_s, 0);
	EXPECT_FALSE(o.progress);
	EXPECT_DOUBLE_EQ(o.duration_s, 0);  // --ops alone: no duration
}

TEST(Options, DefaultsToFiveSeconds)
{
	Options o;
	std::string err;
	ASSERT_TRUE(parse({"--device", "/dev/null", "--op", "write"}, &o, &err)) << err;
	EXPECT_DOUBLE_EQ(o.duration_s, 5);
	EXPECT_EQ(o.threads, 1u);
	EXPECT_FALSE(o.mix_given);
	ASSERT_EQ(o.mix.size(), 1u);
	EXPECT_EQ(o.mix[0].op, "write");
}

TEST(Options, Errors)
{
	Options o;
	std::string err;
	EXPECT_FALSE(parse({"--op", "read"}, &o, &err));
	EXPECT_NE(err.find("--device"), std::string::npos);
	EXPECT_FALSE(parse({"-d", "/dev/null"}, &o, &err));
	EXPECT_NE(err.find("--op or --mix"), std::string::npos);
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--mix", "read=1"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--bogus"}, &o, &err));
	EXPECT_NE(err.find("unknown option '--bogus'"), std::string::npos);
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--threads", "0"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--threads"}, &o, &err));
	EXPECT_NE(err.find("needs a value"), std::string::npos);
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--offsets", "backwards"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--ops", "1", "--threads", "2"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--rate", "0"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--check=yes"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--clock", "sundial"}, &o, &err));
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "stray"}, &o, &err));
}

// --bpf-attach picks the session's hook (the bench's Rust/C pairs: tp_btf on
// both sides, since Rust functions have no BTF for fentry); it needs --bpf.
TEST(Options, BpfAttach)
{
	Options o;
	std::string err;
	ASSERT_TRUE(parse({"-d", "/dev/null", "--op", "read", "--bpf"}, &o, &err)) << err;
	EXPECT_EQ(o.bpf_attach, "auto");
	ASSERT_TRUE(parse({"-d", "/dev/null", "--op", "read", "--bpf", "--bpf-attach", "tp_btf"}, &o, &err)) << err;
	EXPECT_EQ(o.bpf_attach, "tp_btf");
	ASSERT_TRUE(parse({"-d", "/dev/null", "--op", "read", "--bpf-trace", "--bpf-attach", "raw_tp"}, &o, &err)) << err;
	EXPECT_EQ(o.bpf_attach, "raw_tp");
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--bpf-attach", "tp_btf"}, &o, &err));
	EXPECT_NE(err.find("--bpf-attach needs --bpf"), std::string::npos) << err;
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--bpf", "--bpf-attach", ""}, &o, &err));
}

TEST(Options, HelpNeedsNothingElse)
{
	Options o;
	std::string err;
	ASSERT_TRUE(parse({"--help"}, &o, &err));
	EXPECT_TRUE(o.help);
	EXPECT_NE(usage().find("--rate"), std::string::npos);
}

// Forms the hand-written parser accepted, kept under CLI11.
TEST(Options, GrammarKeptUnderCli11)
{
	Options o;
	std::string err;
	ASSERT_TRUE(parse({"-d", "/dev/null", "--op", "ioctl:X", "--ioctl-arg", "-5", "--json", "-", "--seed=7"}, &o, &err))
		<< err;
	EXPECT_EQ(o.ioctl_arg.value_or(0), -5);  // a negative number is a value, not an option
	EXPECT_EQ(o.json_path, "-");             // so is "-"
	EXPECT_EQ(o.seed, 7u);
	ASSERT_TRUE(parse({"-d", "/dev/a", "-d", "/dev/b", "--op", "read", "--ioctl-arg=0x10"}, &o, &err)) << err;
	EXPECT_EQ(o.device, "/dev/b");  // the last one wins
	EXPECT_EQ(o.ioctl_arg.value_or(0), 16);
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--check=yes"}, &o, &err));
	EXPECT_EQ(err, "option --check takes no value");
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--size", "4x"}, &o, &err));
	EXPECT_EQ(err, "--size: '4x' is not a size in 1 byte..64 MiB (4096, 4k, 64KiB)");
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "stray"}, &o, &err));
	EXPECT_EQ(err, "unexpected argument 'stray' (see --help)");
	EXPECT_FALSE(parse({"-d", "/dev/null", "--op", "read", "--threads"}, &o, &err));
	EXPECT_EQ(err, "option --threads needs a value");
}

TEST(Options, HelpHasEveryGroupAndTheFooter)
{
	const std::string h = usage();
	for (const char *s : {"Usage: kmodlab-load --device PATH", "Target and work:", "Load:", "Output and checks:",
			      "  -d, --device PATH", "      --span BYTES", "  -V, --version", "Operations:", "Exit status: 0 ok"})
		EXPECT_NE(h.find(s), std::string::npos) << s;
}
