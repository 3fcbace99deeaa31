// The ConnectX-5 model's firmware state: what its PRM commands read and
// change (the HCA's life cycle, ISSI, capabilities, pages the driver gave,
// registers), and the context and result of one command.
#pragma once

#include "device/prm_device.h"
#include "firmware/firmware_state.h"
#include "firmware/prm_caps.h"

#include <cstdint>
#include <vector>

namespace hcasim::firmware {

/// The HCA's life cycle as mlx5_core drives it (Linux main.c
/// mlx5_function_enable/open): ENABLE_HCA, then INIT_HCA; TEARDOWN_HCA and
/// DISABLE_HCA undo them.
enum class PrmHcaState : std::uint8_t {
    disabled,     // after reset or DISABLE_HCA
    enabled,      // ENABLE_HCA: ISSI, pages, capabilities, registers
    initialized,  // INIT_HCA: every command
};

struct PrmState {
    PrmHcaState hca = PrmHcaState::disabled;
    std::uint16_t issi = 0;                 // SET_ISSI; 0 until set
    PrmCaps caps;                           // QUERY_HCA_CAP / SET_HCA_CAP pages
    std::vector<std::uint64_t> pages;       // MANAGE_PAGES give: device-owned 4 KiB pages
    std::uint32_t host_endianness = 0;      // HOST_ENDIANNESS register (he bit)
    /// The device objects the commands make (UARs, EQs): not the firmware's
    /// own, so reset() leaves the pointer alone (PrmFirmware::reset resets
    /// them too). Never null.
    device::PrmDevice* device = nullptr;

    /// Back to the state after power-on (device reset): pages are forgotten,
    /// capabilities back to their defaults.
    void reset();
};

/// A command's result: PRM command status (prm::stat::*) and syndrome.
struct PrmStatus {
    std::uint8_t status = 0;
    std::uint32_t syndrome = 0;
};

/// Syndromes the model gives (the PRM leaves their values to the firmware;
/// Linux prints them with the status).
inline constexpr std::uint32_t kPrmSyndUnknownOpcode = 0x5ba00001;   // BAD_OP_ERR
inline constexpr std::uint32_t kPrmSyndShortInput = 0x5ba00002;      // BAD_INP_LEN_ERR
inline constexpr std::uint32_t kPrmSyndShortOutput = 0x5ba00003;     // BAD_OUTP_LEN_ERR
inline constexpr std::uint32_t kPrmSyndHcaState = 0x5ba00004;        // BAD_SYS_STATE_ERR
inline constexpr std::uint32_t kPrmSyndBadOpMod = 0x5ba00005;        // BAD_PARAM_ERR
inline constexpr std::uint32_t kPrmSyndBadParam = 0x5ba00006;        // BAD_PARAM_ERR
inline constexpr std::uint32_t kPrmSyndPages = 0x5ba00007;           // BAD_PARAM_ERR (MANAGE_PAGES)
inline constexpr std::uint32_t kPrmSyndUnsupportedReg = 0x5ba00008;  // BAD_PARAM_ERR (ACCESS_REG)
inline constexpr std::uint32_t kPrmSyndQueueSize = 0x5ba00009;       // BAD_PARAM_ERR: ring size or page size
inline constexpr std::uint32_t kPrmSyndBadUar = 0x5ba0000a;          // BAD_PARAM_ERR: no such UAR
inline constexpr std::uint32_t kPrmSyndBadVector = 0x5ba0000b;       // BAD_PARAM_ERR: no such MSI-X vector
inline constexpr std::uint32_t kPrmSyndPageList = 0x5ba0000c;        // BAD_PARAM_ERR: pas[] short or unaligned
inline constexpr std::uint32_t kPrmSyndBadHandle = 0x5ba0000d;       // BAD_PARAM_ERR: no such object
inline constexpr std::uint32_t kPrmSyndNoEq = 0x5ba0000e;            // LIM_ERR: every EQ in use
inline constexpr std::uint32_t kPrmSyndNoUar = 0x5ba0000f;           // NO_RES_ERR: every UAR in use
inline constexpr std::uint32_t kPrmSyndBusy = 0x5ba00010;            // BAD_RES_STATE_ERR: still in use
inline constexpr std::uint32_t kPrmSyndNoObject = 0x5ba00011;        // NO_RES_ERR: the object table is full
inline constexpr std::uint32_t kPrmSyndUnsupported = 0x5ba00012;     // BAD_PARAM_ERR: a mode the model lacks
inline constexpr std::uint32_t kPrmSyndBadState = 0x5ba00013;        // BAD_RES_STATE_ERR: not in the state named
inline constexpr std::uint32_t kPrmSyndBadAddr = 0x5ba00014;         // BAD_PARAM_ERR: misaligned doorbell record

}  // namespace hcasim::firmware
