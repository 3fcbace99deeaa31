// A queue's memory as the device reaches it: a buffer in host memory
// described by a page list (the 4 KiB pages' bus addresses, like an MTT)
// plus its 8-byte doorbell record.  WQE, CQE and EQE rings all sit on one.
//
// Accesses are bounds-checked against the buffer and go through the DMA
// space; pages that lie in fd-backed guest RAM are cached as host pointers
// (refreshed when the DMA maps change), so reading a doorbell record or a
// WQE costs a load, not a lookup.
//
// Source: mlx5 PRM "Work Queue Buffer" / PAS lists; abi/hcasim_abi.h.
#pragma once

#include "abi/hcasim_abi.h"
#include "device/dma_space.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hcasim::device {

// The words of a doorbell record, by the ABI's structs (as mlx5 names
// MLX5_RCV_DBR and MLX5_SND_DBR): a QP's receive and send producer
// indices, a CQ's consumer index and arm word, an SRQ's producer index,
// an EQ's consumer index.
namespace dbr {
inline constexpr unsigned kRq = offsetof(hcasim_qp_dbrec, rq_pi) / 4;
inline constexpr unsigned kSq = offsetof(hcasim_qp_dbrec, sq_pi) / 4;
inline constexpr unsigned kCqCi = offsetof(hcasim_cq_dbrec, ci) / 4;
inline constexpr unsigned kCqArm = offsetof(hcasim_cq_dbrec, arm) / 4;
inline constexpr unsigned kSrqPi = offsetof(hcasim_srq_dbrec, pi) / 4;
inline constexpr unsigned kEqCi = 0;
}  // namespace dbr

class QueueRing {
public:
    QueueRing() = default;
    // pages: bus address of each 4 KiB page; page_offset: where byte 0 of
    // the buffer sits in pages[0]; length: bytes.  dbrec: bus address of
    // the doorbell record (8 bytes, 8-aligned).
    QueueRing(std::vector<uint64_t> pages, uint32_t page_offset, uint64_t length, uint64_t dbrec)
        : pages_(std::move(pages)), page_offset_(page_offset), length_(length), dbrec_(dbrec) {}

    uint64_t length() const { return length_; }
    uint64_t dbrec_addr() const { return dbrec_; }

    // Bytes [off, off+len) of the buffer.  0, or EFAULT when outside the
    // buffer or guest memory.
    int read(DmaSpace& dma, uint64_t off, void* dst, size_t len);
    int write(DmaSpace& dma, uint64_t off, const void* src, size_t len);

    // Doorbell record word i (0 or 1), read/written as one 32-bit access.
    // EFAULT if the record is outside guest memory.
    int dbrec_read(DmaSpace& dma, unsigned word, uint32_t& value);
    int dbrec_write(DmaSpace& dma, unsigned word, uint32_t value);

    // Writes an entry whose last byte is the ownership byte: the body
    // first, a release fence, then the last byte (so software never sees a
    // half-written entry).  len >= 1.
    int write_owned_entry(DmaSpace& dma, uint64_t off, const void* entry, size_t len);

private:
    uint8_t* page_ptr(DmaSpace& dma, size_t page);
    template <class Fn>
    int walk(DmaSpace& dma, uint64_t off, size_t len, Fn&& fn);
    uint32_t* dbrec_ptr(DmaSpace& dma);

    std::vector<uint64_t> pages_;
    uint32_t page_offset_ = 0;
    uint64_t length_ = 0;
    uint64_t dbrec_ = 0;
    // Host pointer cache, valid for DMA-map generation gen_.
    std::vector<uint8_t*> host_;
    uint32_t* dbrec_host_ = nullptr;
    uint64_t gen_ = 0;
};

}  // namespace hcasim::device
