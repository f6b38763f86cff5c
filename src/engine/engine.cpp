#include "engine/engine.h"

namespace hft::engine {

// TODO: matching is not implemented yet; every request is rejected.
class Engine::Impl {
 public:
  explicit Impl(EngineConfig config) : config_(std::move(config)) {}
  EngineConfig config_;
};

Instrument EngineConfig::instrument_for(const Symbol& symbol) const {
  for (const Instrument& instrument : instruments) {
    if (instrument.symbol == symbol) return instrument;
  }
  Instrument instrument = default_instrument;
  instrument.symbol = symbol;
  return instrument;
}

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Status Engine::submit(const NewOrder&, EventSink&) { return RejectReason::kUnknownOrder; }
Status Engine::cancel(OrderId, UserId, EventSink&) { return RejectReason::kUnknownOrder; }
Status Engine::amend(OrderId, UserId, Price, Quantity, EventSink&) {
  return RejectReason::kUnknownOrder;
}
BookDepth Engine::depth(std::string_view, std::size_t) const { return {}; }
std::optional<OrderView> Engine::order(OrderId) const { return std::nullopt; }
std::optional<Position> Engine::position(UserId, std::string_view) const { return std::nullopt; }
std::vector<Position> Engine::positions(UserId) const { return {}; }
std::optional<Instrument> Engine::instrument(std::string_view) const { return std::nullopt; }
std::optional<Price> Engine::last_trade_price(std::string_view) const { return std::nullopt; }
const EngineConfig& Engine::config() const { return impl_->config_; }
EngineStats Engine::stats() const { return {}; }

}  // namespace hft::engine
