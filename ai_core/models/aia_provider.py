import hashlib
import logging
import os
import threading

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..ai_engine import CircuitBreaker

_logger = logging.getLogger(__name__)

# Environment variables read when a provider stores no key (container and CI setups).
ENV_KEYS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
OPENROUTER_ENV_KEY = "OPENROUTER_API_KEY"

# One breaker per (database, provider) and process: it protects this worker from hammering a
# provider that is down, without a database round trip per call.
_breakers: dict[tuple[str, int], CircuitBreaker] = {}
_breakers_lock = threading.Lock()
MAX_CACHED_ADAPTERS = 64
_adapters: dict[tuple, object] = {}
_adapters_lock = threading.Lock()


class AiaProvider(models.Model):
    _name = "aia.provider"
    _description = "AI Provider"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [("anthropic", "Anthropic"), ("openai", "OpenAI-compatible")],
        required=True,
        default="anthropic",
        help="OpenAI-compatible also serves OpenRouter, Ollama, vLLM and LM Studio through the base URL.",
    )
    base_url = fields.Char(
        string="Base URL",
        help="Leave empty for the provider's official endpoint, e.g. http://localhost:11434/v1",
    )
    api_key = fields.Char(
        string="API Key",
        groups="base.group_system",
        copy=False,
        help="Falls back to the environment when empty.",
    )
    extra_headers = fields.Json(
        groups="base.group_system", help='Headers sent with every request, e.g. {"HTTP-Referer": "..."}'
    )
    max_retries = fields.Integer(
        default=2, help="Retries of 429, 5xx and connection errors, before streaming starts."
    )
    failure_threshold = fields.Integer(default=5, help="Consecutive failures that open the circuit breaker.")
    cooldown = fields.Integer(string="Cool-down (s)", default=30, help="Seconds the breaker stays open.")
    company_id = fields.Many2one("res.company", index=True, help="Empty: shared by every company.")
    model_ids = fields.One2many("aia.model", "provider_id", string="Models")

    # === BUSINESS METHODS === #

    def _aia_api_key(self):
        """The stored key, else the environment's; read only inside the choke point."""
        self.ensure_one()
        provider = self.sudo()
        if provider.api_key:
            return provider.api_key
        if provider.kind == "openai" and "openrouter" in (provider.base_url or ""):
            return os.environ.get(OPENROUTER_ENV_KEY)
        return os.environ.get(ENV_KEYS[provider.kind])

    def _aia_build_model_adapter(self):
        """The only place that builds an SDK client. Odoo tests patch this method.

        Adapters are kept per provider configuration and process: an SDK client owns a connection
        pool and an SSL context whose creation alone costs tens of milliseconds per turn.
        """
        self.ensure_one()
        provider = self.sudo()
        key = provider._aia_api_key()
        headers = dict(provider.extra_headers or {})
        cache_key = (
            self.env.cr.dbname,
            provider.id,
            provider.kind,
            provider.base_url or "",
            provider.max_retries,
            hashlib.sha256(f"{key}|{sorted(headers.items())}".encode()).hexdigest(),
        )
        with _adapters_lock:
            adapter = _adapters.get(cache_key)
        if adapter is not None:
            return adapter
        label = f"{provider.kind}:{provider.id}"
        if provider.kind == "anthropic":
            if not key:
                raise UserError(self.env._("No API key for provider %(name)s.", name=provider.name))
            from ..ai_engine.anthropic_adapter import AnthropicAdapter

            adapter = AnthropicAdapter(
                key,
                base_url=provider.base_url or None,
                default_headers=headers or None,
                max_retries=provider.max_retries,
                provider=label,
            )
        else:
            from ..ai_engine.openai_adapter import OpenAIAdapter

            adapter = OpenAIAdapter(
                key,
                base_url=provider.base_url or None,
                default_headers=headers or None,
                max_retries=provider.max_retries,
                provider=label,
            )
        with _adapters_lock:
            # Configurations that changed leave stale entries behind; bound the cache.
            if len(_adapters) >= MAX_CACHED_ADAPTERS:
                _adapters.clear()
            _adapters[cache_key] = adapter
        return adapter

    def _aia_breaker(self):
        self.ensure_one()
        key = (self.env.cr.dbname, self.id)
        with _breakers_lock:
            breaker = _breakers.get(key)
            if breaker is None or (breaker.failure_threshold, breaker.cooldown) != (
                self.failure_threshold,
                self.cooldown,
            ):
                breaker = _breakers[key] = CircuitBreaker(self.failure_threshold, self.cooldown)
            return breaker

    @api.model
    def _aia_reset_breakers(self):
        """Forget every breaker state of this database (tests, and after fixing a provider)."""
        with _breakers_lock:
            for key in [key for key in _breakers if key[0] == self.env.cr.dbname]:
                del _breakers[key]
