import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from .. import secret_box
from ..ai_engine import CircuitBreaker, Message, ModelRequest, ProviderError
from ..logging_filter import register_secret
from .aia_secret_mixin import secret_field, secret_headers_field

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
# Readiness probes: a result is reused this many seconds per (database, provider, model) and
# process, so frequent probes cost one provider request.
PROBE_TTL = 30
PROBE_TIMEOUT = 10
_probes: dict[tuple[str, int, str], tuple[float, dict]] = {}
_probes_lock = threading.Lock()


@dataclass(frozen=True)
class ProviderSettings:
    """What building a provider's SDK client and breaker needs, the secrets decrypted."""

    kind: str
    name: str
    base_url: str
    max_retries: int
    failure_threshold: int
    cooldown: int
    api_key: str | None
    headers: tuple[tuple[str, str], ...]


class AiaProvider(models.Model):
    _name = "aia.provider"
    _inherit = ["aia.secret.mixin", "aia.setup.mixin"]
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
    api_key = secret_field(
        "API Key",
        help="Falls back to the environment when empty. Encrypted when the server has an aia_secret_key.",
    )
    extra_headers = secret_headers_field(
        "Extra headers", help='Headers sent with every request, e.g. {"HTTP-Referer": "..."}'
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
            return secret_box.decrypt(provider.api_key, self.env)
        if provider.kind == "openai" and "openrouter" in (provider.base_url or ""):
            key = os.environ.get(OPENROUTER_ENV_KEY)
        else:
            key = os.environ.get(ENV_KEYS[provider.kind])
        register_secret(key)
        return key

    def _aia_build_model_adapter(self):
        """The only place that builds an SDK client. Odoo tests patch this method.

        Adapters are kept per provider configuration and process: an SDK client owns a connection
        pool and an SSL context whose creation alone costs tens of milliseconds per turn.
        """
        self.ensure_one()
        settings = self._aia_settings()
        cache_key = (
            self.env.cr.dbname,
            self.id,
            settings.kind,
            settings.base_url,
            settings.max_retries,
            hashlib.sha256(f"{settings.api_key}|{sorted(settings.headers)}".encode()).hexdigest(),
        )
        with _adapters_lock:
            adapter = _adapters.get(cache_key)
        if adapter is not None:
            return adapter
        if settings.kind == "anthropic":
            if not settings.api_key:
                raise UserError(self.env._("No API key for provider %(name)s.", name=settings.name))
            from ..ai_engine.anthropic_adapter import AnthropicAdapter as adapter_class
        else:
            from ..ai_engine.openai_adapter import OpenAIAdapter as adapter_class
        adapter = adapter_class(
            settings.api_key,
            base_url=settings.base_url or None,
            default_headers=dict(settings.headers) or None,
            max_retries=settings.max_retries,
            provider=f"{settings.kind}:{self.id}",
        )
        with _adapters_lock:
            # Configurations that changed leave stale entries behind; bound the cache.
            if len(_adapters) >= MAX_CACHED_ADAPTERS:
                _adapters.clear()
            _adapters[cache_key] = adapter
        return adapter

    def _aia_breaker(self):
        self.ensure_one()
        settings = self._aia_settings()
        key = (self.env.cr.dbname, self.id)
        with _breakers_lock:
            breaker = _breakers.get(key)
            if breaker is None or (breaker.failure_threshold, breaker.cooldown) != (
                settings.failure_threshold,
                settings.cooldown,
            ):
                breaker = _breakers[key] = CircuitBreaker(settings.failure_threshold, settings.cooldown)
            return breaker

    def _aia_settings(self):
        """This provider's :class:`ProviderSettings`, read once per process and kept until a
        provider is written (``aia.setup.mixin``)."""
        self.ensure_one()
        return self._aia_cached_settings(self.id)

    @api.model
    @tools.ormcache("provider_id")
    def _aia_cached_settings(self, provider_id):
        provider = self.sudo().browse(provider_id)
        headers = secret_box.decrypt_mapping(provider.extra_headers, self.env)
        return ProviderSettings(
            kind=provider.kind,
            name=provider.name,
            base_url=provider.base_url or "",
            max_retries=provider.max_retries,
            failure_threshold=provider.failure_threshold,
            cooldown=provider.cooldown,
            api_key=provider._aia_api_key(),
            headers=tuple(sorted(headers.items())),
        )

    def _aia_check_reachable(self, model_name):
        """Whether ``model_name`` answers through this provider now (readiness probes).

        The circuit must not be open and a one-token request must succeed. A probe only
        observes: the breaker is left as it is.

        Returns:
            ``{"ok", "circuit", "error", "retry_after"}``; ``error`` is an engine error code,
            ``circuit_open`` or ``configuration``.
        """
        self.ensure_one()
        breaker = self._aia_breaker()
        if breaker.state == "open":
            return {
                "ok": False,
                "circuit": "open",
                "error": "circuit_open",
                "retry_after": breaker.retry_after(),
            }
        key = (self.env.cr.dbname, self.id, model_name)
        now = time.monotonic()
        with _probes_lock:
            cached = _probes.get(key)
        if cached and cached[0] > now:
            return dict(cached[1])
        result = {"ok": True, "circuit": breaker.state, "error": None, "retry_after": None}
        probe = ModelRequest(
            model=model_name,
            system="Answer with one word.",
            messages=(Message.user("ping"),),
            max_tokens=1,
            timeout=PROBE_TIMEOUT,
        )
        try:
            for _item in self._aia_build_model_adapter().stream(probe):
                pass
        except ProviderError as exc:
            result.update(ok=False, error=exc.code, retry_after=exc.retry_after)
        except UserError:
            result.update(ok=False, error="configuration")
        with _probes_lock:
            _probes[key] = (now + PROBE_TTL, result)
        return dict(result)

    @api.model
    def _aia_reset_breakers(self):
        """Forget every breaker state of this database (tests, and after fixing a provider)."""
        with _breakers_lock:
            for key in [key for key in _breakers if key[0] == self.env.cr.dbname]:
                del _breakers[key]
        with _probes_lock:
            for key in [key for key in _probes if key[0] == self.env.cr.dbname]:
                del _probes[key]
