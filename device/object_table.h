// A refcounted object table: the one way the device keeps objects (PDs,
// mkeys, DMA handles, EQs, CQs, QPs, SRQs), as rxe's pools (rxe_pool.c)
// keep its objects.
//
// Handles are (index << 8) | generation: lookups are O(1), a stale handle
// (its slot reused) never finds the new object, and handles fit the 24
// bits mlx5 gives QPNs, CQNs, PDNs and mkey indexes.  Each entry records
// the command channel that created it (released with the channel) and how
// many other objects use it (a user count > 0 makes destroy fail with
// RESOURCE_BUSY, without scanning other tables).
//
// Per type, as rxe_type_info: a name (for traces) and a cleanup hook that
// runs as an object leaves the table (destroyed, its channel released, or
// the device reset).  The hook gives back what the object held: the
// references it took on other objects, its place in doorbell scans.  So
// whoever creates an object takes its references, and whoever removes it
// never has to know them.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

namespace hcasim::device {

// What destroying an object by its owner's command gave.
enum class DestroyResult {
    Done,
    NotFound,  // no such handle, or another channel's object
    Busy,      // other objects use it (mlx5: RESOURCE_BUSY)
};

template <class T>
class ObjectTable {
public:
    using Cleanup = std::function<void(uint32_t handle, T& obj)>;

    // name: the object type ("qp", "cq"); max: live objects at most
    // (indexes 1..max; index 0 is never used so that handle 0 means
    // "none").
    ObjectTable(const char* name, uint32_t max) : name_(name), max_(max) {}
    ObjectTable(const ObjectTable&) = delete;
    ObjectTable& operator=(const ObjectTable&) = delete;

    const char* name() const { return name_; }
    // The hook erase() runs before an object leaves (set once, by the
    // table's owner).
    void set_cleanup(Cleanup fn) { cleanup_ = std::move(fn); }

    // Inserts obj; its handle is returned (and stored through `handle_field`
    // by callers that keep one).  nullopt when max objects are live.
    std::optional<uint32_t> insert(T obj, uint32_t owner) {
        if (live_ >= max_) return std::nullopt;
        uint32_t index;
        if (!free_.empty() && (free_.size() > 64 || slots_.size() >= max_)) {
            index = free_.front();  // FIFO: a freed handle is reused late
            free_.pop_front();
        } else {
            slots_.emplace_back();
            index = static_cast<uint32_t>(slots_.size());
        }
        Slot& s = slots_[index - 1];
        s.gen = static_cast<uint8_t>(s.gen + 1);
        if (s.gen == 0) s.gen = 1;
        s.live = true;
        s.owner = owner;
        s.users = 0;
        s.obj = std::move(obj);
        ++live_;
        return (index << 8) | s.gen;
    }

    T* find(uint32_t handle) {
        Slot* s = slot(handle);
        return s ? &s->obj : nullptr;
    }
    const T* find(uint32_t handle) const { return const_cast<ObjectTable*>(this)->find(handle); }
    // The object only if `owner` created it.
    T* find_owned(uint32_t handle, uint32_t owner) {
        Slot* s = slot(handle);
        return s && s->owner == owner ? &s->obj : nullptr;
    }
    const T* find_owned(uint32_t handle, uint32_t owner) const {
        return const_cast<ObjectTable*>(this)->find_owned(handle, owner);
    }
    std::optional<uint32_t> owner_of(uint32_t handle) const {
        const Slot* s = const_cast<ObjectTable*>(this)->slot(handle);
        if (!s) return std::nullopt;
        return s->owner;
    }

    // Users: other objects that refer to this one.
    void get(uint32_t handle) {
        if (Slot* s = slot(handle)) ++s->users;
    }
    void put(uint32_t handle) {
        if (Slot* s = slot(handle); s && s->users) --s->users;
    }
    bool busy(uint32_t handle) const {
        const Slot* s = const_cast<ObjectTable*>(this)->slot(handle);
        return s && s->users > 0;
    }
    uint32_t users(uint32_t handle) const {
        const Slot* s = const_cast<ObjectTable*>(this)->slot(handle);
        return s ? s->users : 0;
    }

    // Removes the object (its cleanup hook runs first), whatever its users.
    bool erase(uint32_t handle) {
        Slot* s = slot(handle);
        if (!s) return false;
        if (cleanup_) cleanup_(handle, s->obj);
        s->live = false;
        s->obj = T{};
        free_.push_back(handle >> 8);
        --live_;
        return true;
    }

    // A destroy command from `owner`: refused for another's object or one
    // in use, else erased.
    DestroyResult destroy(uint32_t handle, uint32_t owner) {
        if (!find_owned(handle, owner)) return DestroyResult::NotFound;
        if (busy(handle)) return DestroyResult::Busy;
        erase(handle);
        return DestroyResult::Done;
    }

    // Calls fn(handle, obj) for every live object.
    template <class Fn>
    void for_each(Fn&& fn) {
        for (uint32_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].live) fn(((i + 1) << 8) | slots_[i].gen, slots_[i].obj);
    }
    // Handles of the objects `owner` created, in creation-slot order.
    template <class Fn>
    void for_each_owned(uint32_t owner, Fn&& fn) {
        for (uint32_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].live && slots_[i].owner == owner)
                fn(((i + 1) << 8) | slots_[i].gen, slots_[i].obj);
    }

    // Erases every object `owner` created; returns how many.
    size_t release_owner(uint32_t owner) {
        size_t n = 0;
        for (uint32_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].live && slots_[i].owner == owner) {
                erase(((i + 1) << 8) | slots_[i].gen);
                ++n;
            }
        return n;
    }

    void clear() {
        for (uint32_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].live) erase(((i + 1) << 8) | slots_[i].gen);
    }
    size_t size() const { return live_; }
    uint32_t max() const { return max_; }

private:
    struct Slot {
        T obj{};
        uint32_t owner = 0;
        uint32_t users = 0;
        uint8_t gen = 0;
        bool live = false;
    };
    Slot* slot(uint32_t handle) {
        const uint32_t index = handle >> 8;
        if (index == 0 || index > slots_.size()) return nullptr;
        Slot& s = slots_[index - 1];
        if (!s.live || s.gen != (handle & 0xff)) return nullptr;
        return &s;
    }

    const char* name_;
    uint32_t max_;
    Cleanup cleanup_;
    uint32_t live_ = 0;
    std::deque<Slot> slots_;   // stable addresses as the table grows
    std::deque<uint32_t> free_;
};

}  // namespace hcasim::device
