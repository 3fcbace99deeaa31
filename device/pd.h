// Protection domains (IBTA vol 1 10.2.3): a PD holds nothing itself; its
// handle ties mkeys, QPs and SRQs together (an access passes only when the
// QP's PD is the mkey's), and the PD table counts those users so that
// DEALLOC_PD refuses a PD still in use.
#pragma once

#include "device/object_table.h"

namespace hcasim::device {

struct Pd {};

using PdTable = ObjectTable<Pd>;

}  // namespace hcasim::device
