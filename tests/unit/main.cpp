// doctest runner for the unit and host-direct tests. A run whose filters
// select no test case fails: an empty run is not a pass (a mistyped
// --source-file or --test-case would otherwise report success).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <optional>

namespace {

std::optional<unsigned> g_selected;  // test cases that passed the filters

// Listens for the end of the run to learn how many test cases it selected.
struct SelectedCount : doctest::IReporter {
    explicit SelectedCount(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& stats) override
    {
        g_selected = stats.numTestCasesPassingFilters;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("selected-count", 1, SelectedCount);

int main(int argc, char** argv)
{
    doctest::Context context(argc, argv);
    const int rc = context.run();
    if (context.shouldExit() || rc != 0)
        return rc;
    if (g_selected && *g_selected == 0) {
        std::fprintf(stderr, "doctest: the filters selected no test case; "
                             "an empty run is not a pass\n");
        return 1;
    }
    return 0;
}
