// vfio-user wire format: the message header, command numbers and the
// fixed-size payload structs of the commands hcasim serves or sends.
//
// Source: QEMU docs/interop/vfio-user.rst (the vfio-user spec), and the
// limits QEMU 11.1's client checks (../shared/reference/vfio-user-notes.md).
// Everything is host byte order; fds travel as SCM_RIGHTS with the header.
// Shared by the server (pcie/) and the host-direct client (verbs/).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hcasim::vfio_user {

enum class Command : uint16_t {
    Version = 1,
    DmaMap = 2,
    DmaUnmap = 3,
    DeviceGetInfo = 4,
    DeviceGetRegionInfo = 5,
    DeviceGetRegionIoFds = 6,
    DeviceGetIrqInfo = 7,
    DeviceSetIrqs = 8,
    RegionRead = 9,
    RegionWrite = 10,
    DmaRead = 11,
    DmaWrite = 12,
    DeviceReset = 13,
};

inline constexpr uint16_t kMaxCommand = 13;

// Header flags (spec §Header).
inline constexpr uint32_t kFlagTypeMask = 0xf;
inline constexpr uint32_t kFlagTypeCommand = 0x0;
inline constexpr uint32_t kFlagTypeReply = 0x1;
inline constexpr uint32_t kFlagNoReply = 0x10;
inline constexpr uint32_t kFlagError = 0x20;

struct Header {
    uint16_t msg_id;
    uint16_t command;
    uint32_t msg_size;  // bytes, header included
    uint32_t flags;
    uint32_t error;     // errno, in error replies
};
static_assert(sizeof(Header) == 16);

// Limits hcasim advertises in its VERSION reply and enforces on input.
inline constexpr uint32_t kMaxDataXfer = 1u << 20;  // bytes per REGION/DMA transfer
inline constexpr uint32_t kMaxMsgFds = 8;
inline constexpr uint32_t kMaxMessageSize = sizeof(Header) + 64 + kMaxDataXfer;
inline constexpr uint32_t kMaxDmaMaps = 1024;

// Largest reply QEMU 11.1 will accept for each command (its receive
// buffer); a larger reply desynchronises its stream.
inline constexpr uint32_t kMaxVersionReply = 214;

struct VersionPayload {
    uint16_t major;
    uint16_t minor;
    // followed by a NUL-terminated JSON capabilities string
};

inline constexpr uint32_t kDmaFlagRead = 1;
inline constexpr uint32_t kDmaFlagWrite = 2;
inline constexpr uint32_t kDmaUnmapFlagAll = 2;

struct DmaMap {
    uint32_t argsz;
    uint32_t flags;   // kDmaFlagRead | kDmaFlagWrite
    uint64_t offset;  // into the fd
    uint64_t address; // DMA (bus) address
    uint64_t size;    // bytes
};
static_assert(sizeof(DmaMap) == 32);

struct DmaUnmap {
    uint32_t argsz;
    uint32_t flags;
    uint64_t address;
    uint64_t size;
};
static_assert(sizeof(DmaUnmap) == 24);

inline constexpr uint32_t kDeviceFlagReset = 1;
inline constexpr uint32_t kDeviceFlagPci = 2;

struct DeviceInfo {
    uint32_t argsz;
    uint32_t flags;
    uint32_t num_regions;
    uint32_t num_irqs;
};
static_assert(sizeof(DeviceInfo) == 16);

inline constexpr uint32_t kRegionFlagRead = 1;
inline constexpr uint32_t kRegionFlagWrite = 2;
inline constexpr uint32_t kRegionFlagMmap = 4;
inline constexpr uint32_t kRegionFlagCaps = 8;

struct RegionInfo {
    uint32_t argsz;
    uint32_t flags;
    uint32_t index;
    uint32_t cap_offset;
    uint64_t size;    // bytes
    uint64_t offset;  // mmap offset in the fd
};
static_assert(sizeof(RegionInfo) == 32);

inline constexpr uint16_t kCapSparseMmap = 1;

struct CapHeader {
    uint16_t id;
    uint16_t version;
    uint32_t next;
};

struct SparseMmapCap {
    CapHeader header;
    uint32_t nr_areas;
    uint32_t reserved;
    // followed by SparseArea[nr_areas]
};

struct SparseArea {
    uint64_t offset;  // within the region, bytes
    uint64_t size;    // bytes
};

// Region indexes (VFIO PCI).
inline constexpr uint32_t kRegionBar0 = 0;
inline constexpr uint32_t kRegionRom = 6;
inline constexpr uint32_t kRegionConfig = 7;
inline constexpr uint32_t kRegionVga = 8;
inline constexpr uint32_t kNumRegions = 9;

// IRQ indexes and flags (VFIO PCI).
inline constexpr uint32_t kIrqIntx = 0;
inline constexpr uint32_t kIrqMsi = 1;
inline constexpr uint32_t kIrqMsix = 2;
inline constexpr uint32_t kIrqErr = 3;
inline constexpr uint32_t kIrqReq = 4;
inline constexpr uint32_t kNumIrqs = 5;

inline constexpr uint32_t kIrqInfoEventfd = 1;
inline constexpr uint32_t kIrqInfoMaskable = 2;
inline constexpr uint32_t kIrqInfoAutomasked = 4;
inline constexpr uint32_t kIrqInfoNoresize = 8;

struct IrqInfo {
    uint32_t argsz;
    uint32_t flags;
    uint32_t index;
    uint32_t count;
};
static_assert(sizeof(IrqInfo) == 16);

inline constexpr uint32_t kIrqSetDataNone = 1;
inline constexpr uint32_t kIrqSetDataBool = 2;
inline constexpr uint32_t kIrqSetDataEventfd = 4;
inline constexpr uint32_t kIrqSetActionMask = 8;
inline constexpr uint32_t kIrqSetActionUnmask = 16;
inline constexpr uint32_t kIrqSetActionTrigger = 32;

struct IrqSet {
    uint32_t argsz;
    uint32_t flags;
    uint32_t index;
    uint32_t start;
    uint32_t count;
};
static_assert(sizeof(IrqSet) == 20);

struct RegionAccess {
    uint64_t offset;  // within the region, bytes
    uint32_t region;
    uint32_t count;   // bytes of data that follow
};
static_assert(sizeof(RegionAccess) == 16);

struct DmaAccess {
    uint64_t address;
    uint64_t count;   // bytes of data that follow
};
static_assert(sizeof(DmaAccess) == 16);

const char* command_name(uint16_t command);

}  // namespace hcasim::vfio_user
