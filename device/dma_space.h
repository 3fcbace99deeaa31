// DMA space: the host (guest) memory the device may reach, as the client
// offered it with vfio-user DMA_MAP.  Every device DMA goes through here
// and is bounds-checked against the maps: an address outside them fails
// with EFAULT and never touches memory the device does not own.
//
// Source: vfio-user spec §DMA_MAP/§DMA_UNMAP (maps with an fd are mmapped;
// maps without one are reached with DMA_READ/DMA_WRITE messages).
#pragma once

#include "common/unique_fd.h"

#include <cstddef>
#include <cstdint>
#include <map>

namespace hcasim::device {

// Carries DMA to maps that have no fd (vfio-user DMA_READ/DMA_WRITE).
class DmaMessagePort {
public:
    virtual ~DmaMessagePort() = default;
    // Return 0 or an errno.
    virtual int dma_read(uint64_t addr, void* dst, size_t len) = 0;
    virtual int dma_write(uint64_t addr, const void* src, size_t len) = 0;
};

class DmaSpace {
public:
    static constexpr uint32_t kRead = 1;
    static constexpr uint32_t kWrite = 2;

    DmaSpace() = default;
    DmaSpace(const DmaSpace&) = delete;
    DmaSpace& operator=(const DmaSpace&) = delete;
    ~DmaSpace() { unmap_all(); }

    // Adds [addr, addr+size).  prot: kRead|kWrite.  With an fd the range
    // [offset, offset+size) of it is mmapped.  Errors: EEXIST (overlaps a
    // map), EINVAL (empty, wraps, or offset past the fd's end), E2BIG (too
    // many maps), or the mmap errno.
    int map(uint64_t addr, uint64_t size, uint32_t prot, UniqueFd fd, uint64_t offset);
    // Removes the map that is exactly [addr, addr+size): ENOENT otherwise.
    int unmap(uint64_t addr, uint64_t size);
    void unmap_all();

    // Device DMA.  EFAULT: some byte is outside every map; EACCES: a map
    // lacks the permission; EIO: a message-carried DMA failed.
    int read(uint64_t addr, void* dst, size_t len) const;
    int write(uint64_t addr, const void* src, size_t len);

    // The device's own pointer to [addr, addr+len) when it lies inside one
    // fd-backed map with the permissions `need` (kRead|kWrite); nullptr
    // otherwise (gap, message-carried map, missing permission).  Valid
    // until the maps change: compare generation().
    uint8_t* host_ptr(uint64_t addr, size_t len, uint32_t need) const;
    // Bumped by every map/unmap: cached host pointers are stale once it moves.
    uint64_t generation() const { return generation_; }

    void set_message_port(DmaMessagePort* port) { port_ = port; }
    size_t count() const { return maps_.size(); }
    // Bytes read/written by DMA since start (for the trace and inspection).
    uint64_t bytes_read() const { return bytes_read_; }
    uint64_t bytes_written() const { return bytes_written_; }

    static constexpr size_t kMaxMaps = 1024;

private:
    struct Map {
        uint64_t size;
        uint32_t prot;
        uint8_t* base;  // mmap of the fd, or nullptr (message-carried)
        size_t mapped_len;
    };
    // Calls fn(map, offset_in_map, chunk_len, done) for each chunk of
    // [addr, addr+len); EFAULT if a gap is met, EACCES on a missing prot.
    template <class Fn>
    int walk(uint64_t addr, size_t len, uint32_t need, Fn&& fn) const;

    std::map<uint64_t, Map> maps_;  // start -> map
    DmaMessagePort* port_ = nullptr;
    uint64_t generation_ = 1;
    mutable uint64_t bytes_read_ = 0;
    uint64_t bytes_written_ = 0;
};

}  // namespace hcasim::device
