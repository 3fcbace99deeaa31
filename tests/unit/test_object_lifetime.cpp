// Object lifetime in one place (issue 18, section 3): the object table's
// per-type cleanup hook, and the references a queue object takes when it
// is created and gives back when it goes, however it goes (its destroy
// command, its channel released, the device reset).
#include "abi/hcasim_commands.hpp"
#include "device/object_table.h"
#include "tests/unit/engine_driver.h"

#include <string>

using namespace hcasim;
using namespace hcasim::device;
using namespace hcasim::test;

namespace {

struct Thing {
    int value = 0;
};

TEST_CASE("object table: the cleanup hook runs once as each object leaves, however it leaves") {
    ObjectTable<Thing> t("thing", 8);
    CHECK(std::string(t.name()) == "thing");
    std::vector<std::pair<uint32_t, int>> gone;
    t.set_cleanup([&](uint32_t h, Thing& x) { gone.emplace_back(h, x.value); });
    const uint32_t a = *t.insert({1}, 0), b = *t.insert({2}, 0), c = *t.insert({3}, 1), d = *t.insert({4}, 1);

    // Another channel's object, or one in use: refused, the hook not run.
    CHECK(t.destroy(c, 0) == DestroyResult::NotFound);
    CHECK(t.destroy(0x12345, 0) == DestroyResult::NotFound);
    t.get(a);
    CHECK(t.destroy(a, 0) == DestroyResult::Busy);
    CHECK(gone.empty());
    t.put(a);
    CHECK(t.destroy(a, 0) == DestroyResult::Done);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0] == std::pair<uint32_t, int>{a, 1});
    CHECK(t.destroy(a, 0) == DestroyResult::NotFound);  // a stale handle

    // Releasing a channel erases its objects, users or not.
    t.get(c);
    CHECK(t.release_owner(1) == 2);
    REQUIRE(gone.size() == 3);
    CHECK(gone[1] == std::pair<uint32_t, int>{c, 3});
    CHECK(gone[2] == std::pair<uint32_t, int>{d, 4});
    t.clear();
    REQUIRE(gone.size() == 4);
    CHECK(gone[3] == std::pair<uint32_t, int>{b, 2});
    CHECK(t.size() == 0);
}


template <class In, class Out>
uint32_t destroy(EngineDriver& d, uint32_t ch, uint32_t handle, uint32_t In::*field) {
    In in{};
    abi::set_opcode(in);
    in.*field = handle;
    Out out{};
    return d.run(in, out, ch).status;
}
uint32_t destroy_qp(EngineDriver& d, uint32_t qpn, uint32_t ch = 0) {
    return destroy<hcasim_destroy_qp_in, hcasim_destroy_qp_out>(d, ch, qpn, &hcasim_destroy_qp_in::qpn);
}
uint32_t destroy_cq(EngineDriver& d, uint32_t cqn, uint32_t ch = 0) {
    return destroy<hcasim_destroy_cq_in, hcasim_destroy_cq_out>(d, ch, cqn, &hcasim_destroy_cq_in::cqn);
}
uint32_t destroy_srq(EngineDriver& d, uint32_t srqn, uint32_t ch = 0) {
    return destroy<hcasim_destroy_srq_in, hcasim_destroy_srq_out>(d, ch, srqn, &hcasim_destroy_srq_in::srqn);
}
uint32_t destroy_eq(EngineDriver& d, uint32_t eqn, uint32_t ch = 0) {
    return destroy<hcasim_destroy_eq_in, hcasim_destroy_eq_out>(d, ch, eqn, &hcasim_destroy_eq_in::eqn);
}
uint32_t dealloc_pd(EngineDriver& d, uint32_t pdn, uint32_t ch = 0) {
    return destroy<hcasim_dealloc_pd_in, hcasim_dealloc_pd_out>(d, ch, pdn, &hcasim_dealloc_pd_in::pdn);
}
uint32_t destroy_mkey(EngineDriver& d, uint32_t key, uint32_t ch = 0) {
    return destroy<hcasim_destroy_mkey_in, hcasim_destroy_mkey_out>(d, ch, key, &hcasim_destroy_mkey_in::mkey);
}

TEST_CASE("queue objects hold what they use until they go: destroy, channel release and reset give it back") {
    EngineDriver d;
    const uint32_t pdn = d.pd(0);
    EqH eq = d.eq(0);
    CqH scq = d.cq(0, eq.eqn), rcq = d.cq(0, eq.eqn, 6, eq.eqn);
    SrqH srq = d.srq(0, pdn, eq.eqn);
    QpH qp = d.qp(0, qpt::kRc, pdn, scq.cqn, rcq.cqn, eq.eqn, srq.srqn);
    MrH mr = d.mr(0, pdn, 4096);

    // Everything the QP, the SRQ, the CQs and the MR use is busy.
    CHECK(dealloc_pd(d, pdn) == HCASIM_STATUS_RESOURCE_BUSY);
    CHECK(destroy_cq(d, scq.cqn) == HCASIM_STATUS_RESOURCE_BUSY);
    CHECK(destroy_cq(d, rcq.cqn) == HCASIM_STATUS_RESOURCE_BUSY);
    CHECK(destroy_srq(d, srq.srqn) == HCASIM_STATUS_RESOURCE_BUSY);
    CHECK(destroy_eq(d, eq.eqn) == HCASIM_STATUS_RESOURCE_BUSY);
    // Another channel's handles are not found.
    CHECK(destroy_qp(d, qp.qpn, 1) == HCASIM_STATUS_BAD_RESOURCE);
    CHECK(destroy_cq(d, scq.cqn, 1) == HCASIM_STATUS_BAD_RESOURCE);

    // Each destroy gives back exactly what its object held, in turn.
    CHECK(destroy_qp(d, qp.qpn) == HCASIM_STATUS_OK);
    CHECK(d.eng().qp_table().find(qp.qpn) == nullptr);
    CHECK(destroy_qp(d, qp.qpn) == HCASIM_STATUS_BAD_RESOURCE);
    CHECK(destroy_cq(d, scq.cqn) == HCASIM_STATUS_OK);
    CHECK(destroy_eq(d, eq.eqn) == HCASIM_STATUS_RESOURCE_BUSY);  // rcq (twice) and the SRQ
    CHECK(destroy_srq(d, srq.srqn) == HCASIM_STATUS_OK);
    CHECK(dealloc_pd(d, pdn) == HCASIM_STATUS_RESOURCE_BUSY);      // the MR
    CHECK(destroy_mkey(d, mr.key) == HCASIM_STATUS_OK);
    CHECK(dealloc_pd(d, pdn) == HCASIM_STATUS_OK);
    CHECK(destroy_cq(d, rcq.cqn) == HCASIM_STATUS_OK);
    CHECK(destroy_eq(d, eq.eqn) == HCASIM_STATUS_OK);

    // Channel 1 uses channel 0's nothing; channel 0 keeps a CQ on an EQ.
    EqH eq0 = d.eq(0);
    CqH cq0 = d.cq(0, eq0.eqn);
    const uint32_t pd1 = d.pd(1);
    EqH eq1 = d.eq(1);
    CqH cq1 = d.cq(1, eq1.eqn);
    QpH qp1 = d.qp(1, qpt::kRc, pd1, cq1.cqn, cq1.cqn, eq1.eqn);
    d.fw.release_channel(1);
    CHECK(d.eng().qp_table().find(qp1.qpn) == nullptr);
    CHECK(d.eng().cq_table().find(cq1.cqn) == nullptr);
    CHECK(d.eng().eq_table().find(eq1.eqn) == nullptr);
    CHECK(d.fw.state().pds.find(pd1) == nullptr);
    // Channel 0's objects and their references are as they were.
    CHECK(destroy_eq(d, eq0.eqn) == HCASIM_STATUS_RESOURCE_BUSY);
    CHECK(destroy_cq(d, cq0.cqn) == HCASIM_STATUS_OK);
    CHECK(destroy_eq(d, eq0.eqn) == HCASIM_STATUS_OK);

    // A reset empties every table; new objects start with no users.
    const uint32_t pd2 = d.pd(0);
    EqH eq2 = d.eq(0);
    CqH cq2 = d.cq(0, eq2.eqn);
    d.qp(0, qpt::kUd, pd2, cq2.cqn, cq2.cqn, eq2.eqn);
    d.fw.reset();
    CHECK(d.eng().qp_table().size() == 0);
    CHECK(d.eng().cq_table().size() == 0);
    CHECK(d.eng().eq_table().size() == 0);
    CHECK(d.fw.state().pds.size() == 0);
    for (uint32_t ch : {0u, 1u}) d.eng().open_uar(HCASIM_CHANNEL_UAR(ch), ch);
    const uint32_t pd3 = d.pd(0);
    CHECK(dealloc_pd(d, pd3) == HCASIM_STATUS_OK);
}

}  // namespace
