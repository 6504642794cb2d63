#include "bgp/wire/error.h"

namespace bagpipe::bgp {

std::string_view ErrorActionName(ErrorAction a) {
    switch (a) {
        case ErrorAction::kAttributeDiscard: return "attribute-discard";
        case ErrorAction::kTreatAsWithdraw: return "treat-as-withdraw";
        case ErrorAction::kAfiSafiDisable: return "afi-safi-disable";
        case ErrorAction::kSessionReset: return "session-reset";
    }
    return "session-reset";
}

}  // namespace bagpipe::bgp
