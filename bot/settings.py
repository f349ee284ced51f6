"""Settings, read from ``CHAYICI_*`` environment variables.

Secrets (the app secret, the audit key) only ever come from here; they are
``SecretStr`` so that a stray ``repr`` or log line never prints them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("chayici-data")


def _split_csv(value: Any) -> Any:
    """Allow ``A,B`` in the environment where a list is expected (pydantic-settings wants JSON)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _json_mapping(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text else {}
    return value


CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]
JsonMap = Annotated[dict[str, str], NoDecode, BeforeValidator(_json_mapping)]


class Settings(BaseSettings):
    """Everything a deployment can change without touching code."""

    model_config = SettingsConfigDict(env_prefix="CHAYICI_", extra="ignore", frozen=True)

    # Storage
    database_url: str = "sqlite:///chayici-data/chayici.db"
    data_dir: Path = DEFAULT_DATA_DIR

    # DingTalk application credentials
    app_key: str = "dingchayicidemo"
    app_secret: SecretStr = SecretStr("chayici-demo-app-secret")
    robot_code: str = "dingchayicidemo"
    corp_id: str = "dingchayicicorp"
    agent_id: int = 100001
    audit_key: SecretStr = SecretStr("chayici-demo-audit-key")

    dingtalk_api_base: str = "https://api.dingtalk.com"
    dingtalk_oapi_base: str = "https://oapi.dingtalk.com"
    # Hosts a sessionWebhook may point at. Anything else is refused (SSRF guard).
    session_webhook_hosts: CsvList = Field(default_factory=lambda: ["oapi.dingtalk.com", "api.dingtalk.com"])
    # Only for the local workspace: allow loopback webhook hosts explicitly listed here.
    session_webhook_allow_loopback: bool = False
    reply_via_session_webhook: bool = False

    # Inbound
    sign_window_ms: int = 3_600_000
    max_body_bytes: int = 64 * 1024
    # Card callbacks carry no documented signature; when the headers are present they are checked.
    card_require_signature: bool = False
    card_callback_type: str = "HTTP"
    # Identical card callbacks within this window are redeliveries; later ones are new clicks.
    card_dedupe_seconds: float = 600.0
    card_callback_route_key: str = "chayici"
    # Template key -> cardTemplateId registered in the card platform.
    card_template_ids: JsonMap = Field(default_factory=dict)

    # Outbound
    http_connect_timeout: float = 3.05
    http_read_timeout: float = 10.0
    outbox_batch_size: int = 20
    outbox_lease_seconds: int = 60
    outbox_max_attempts: int = 8
    outbox_backoff_base_seconds: float = 2.0
    outbox_backoff_cap_seconds: float = 600.0
    outbox_idle_sleep_seconds: float = 0.5
    # Outbox loops per worker process. They share the rate limits through the database; with two,
    # one can draw a PDF while the other waits on a card call (one loop reached 77-82 % of the
    # card rate limit on a 2-vCPU machine, two reached 94 %: bench/draw.py).
    outbox_worker_threads: int = Field(default=2, ge=1, le=16)
    # Rate limits per key family: "<count>/<seconds>". Keys are documented in bot/ratelimit.py.
    rate_limits: JsonMap = Field(
        default_factory=lambda: {
            "api:robot": "20/1",
            "api:card": "20/1",
            "api:oapi": "20/1",
            "group": "20/60",
            # Background jobs (PDF rendering): paced so they never starve messages in a worker.
            "job": "10/1",
        }
    )

    # Ticker
    ticker_interval_seconds: float = 5.0
    # SQLite: how often the worker copies the write-ahead log into the database (storage/checkpoint.py)
    sqlite_checkpoint_seconds: float = Field(default=0.25, gt=0, le=60)
    inbox_retention_hours: int = 48
    outbox_retention_hours: int = 168

    # Web
    public_base_url: str = "http://127.0.0.1:8000"
    link_secret: SecretStr = SecretStr("chayici-demo-link-secret")
    timezone: str = "Asia/Shanghai"

    # Documents
    cjk_font_path: str = ""

    # Tasks and negotiation (⚠️ settings, not law)
    task_number_pattern: str = "{issuer}{code}〔{year}〕{seq}号"
    negotiation_remind_hours: float = 24.0
    negotiation_stall_hours: float = 72.0
    onsite_yearly_cap: int = 2

    # Draw and dispatch (⚠️ local policy, not law). Weights are relative sampling rates per
    # stratum: risk classes A-D, U (unknown class), F (重点监管 / 经营异常 / 严重失信 on the day).
    draw_risk_weights: JsonMap = Field(
        default_factory=lambda: {"A": "1", "B": "2", "C": "4", "D": "8", "U": "2", "F": "8"}
    )
    draw_min_per_unit: int = 1  # certified inspectors of each participating unit per team; 0 = any unit
    draw_load_cap_per_day: int = 2  # teams one inspector may be in on one day
    dispatch_remind_hours: float = 4.0
    dispatch_escalate_hours: float = 8.0

    # Legal documents: number pattern and document codes (文书代字) per document kind.
    document_number_pattern: str = "{issuer}{code}〔{year}〕{seq}号"
    document_codes: JsonMap = Field(
        default_factory=lambda: {
            "inspection_notice": "检通",
            "site_record": "检记",
            "registration": "检登",
            "rectify_order": "责改",
        }
    )

    # On-site results: the mobile form's signed links, evidence storage and upload limits.
    result_link_hours: float = 72.0  # a form link expires after this; every card update mints a new one
    result_window_open_hour: int = 8  # local hour on the window's first day when the card is re-sent
    evidence_store: str = "folder"  # "folder" (under data_dir/evidence) or "folder:/some/path"
    evidence_max_bytes: int = 20 * 1024 * 1024  # one chat file or form photo
    form_max_body_bytes: int = 1024 * 1024  # one form save/submit (signatures included)

    # Follow-up after the inspection (⚠️ local policy unless a law is named; see docs/followup.md).
    ticker_claim_limit: int = 200  # due items claimed per transaction by one ticker pass
    reminder_hour: int = 9  # local hour at which working-day reminders fall due
    rectify_remind_workdays: int = 3  # reminder to the team N working days before the deadline
    reinspection_sla_workdays: int = 3  # re-check within N working days after the deadline (BR-24)
    referral_response_workdays: int = 10  # answer expected from the department a matter was 抄告 to
    report_response_workdays: int = 10  # feedback expected on a 上报
    credit_decision_workdays: int = 20  # decision expected on a credit proposal
    credit_listing_years: int = 3  # default length of a decided listing (domain.md §7)
    transfer_decision_days: int = 3  # 国务院令310号: the head decides within 3 days
    transfer_hours: int = 24  # transfer within 24 hours of approval
    police_decision_days: int = 3  # the police decide whether to file within 3 days
    reconsideration_days: int = 3  # reconsideration may be asked within 3 days of a refusal
    handover_days: int = 3  # items and files handed over within 3 days of filing
    publication_workdays: int = 20  # 企业信息公示暂行条例: within 20 working days (BR-19)
    publication_remind_workdays: int = 5  # reminder when this many working days are left
    publication_channel: str = "国家企业信用信息公示系统"  # default channel recorded when publishing
    archive_retention: str = "permanent"  # "permanent" or e.g. "30y" (BR-32: on-site video is permanent)
    archive_scan_minutes: float = 60.0  # how often the ticker looks for tasks ready to archive

    # Oversight (通报晾晒, docs/oversight.md). Schedule entries: weekly:<mon..sun>:<HH:MM> and
    # monthly:<1..31|last>:<HH:MM>, comma-separated, local time; empty = no scheduled bulletins.
    bulletin_schedule: str = "weekly:mon:09:00,monthly:last:17:00"
    bulletin_list_limit: int = 10  # overdue items named per list in a chat message (the page lists all)
    dashboard_link_hours: float = 12.0  # lifetime of a /dashboard login link (看板)

    def card_template_id(self, key: str) -> str:
        """The platform template id for one of our card specs (defaults to ``<key>.schema``)."""
        return self.card_template_ids.get(key, f"chayici.{key}.schema")

    def rate_limit(self, family: str) -> tuple[int, float] | None:
        spec = self.rate_limits.get(family)
        if not spec:
            return None
        count, _, seconds = spec.partition("/")
        return int(count), float(seconds or 1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
