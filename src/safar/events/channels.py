"""The channel vocabulary lives in the kit; this name stays for the events code that uses it."""

from safar.kit.channels import (
    ALIASES,
    CHANNELS,
    NEUTRAL,
    Channel,
    infer_channel,
    normalize_channel,
)

__all__ = ["ALIASES", "CHANNELS", "NEUTRAL", "Channel", "infer_channel", "normalize_channel"]
