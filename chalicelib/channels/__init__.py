"""Channel adapters: one module per channel, each turning a provider's payload into `Inbound`."""
