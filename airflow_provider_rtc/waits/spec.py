"""The wait options of each cloud: one frozen, JSON-ready object per cloud.

The sensors, the stop-and-wait operators, their probes and the triggers all hold the same spec, and
a trigger's ``serialize()`` carries ``spec.to_dict()``: a new option is one field here (plus the
documented flat parameter on the public classes, which build the spec with :meth:`from_params`).
Specs never hold a secret; the connection to use is not a wait option and travels beside the spec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any, ClassVar, Generic, TypeVar, overload

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.recordings.manifest import UploadPolicy
from airflow_provider_rtc.recordings.trtc import VOD_COMMIT_GRACE_SECONDS

S = TypeVar("S", bound="WaitSpec")

TRTC_STORAGE_CHOICES = ("auto", "cos", "vod")
ZEGO_BACKUP_CHOICES = ("fail", "warn")


@dataclass(frozen=True)
class WaitSpec:
    """Shared behaviour: JSON round trip and construction from flat parameters."""

    cloud: ClassVar[str] = ""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_params(cls: type[S], spec: dict[str, Any] | WaitSpec | None = None, **params: Any) -> S:
        """``spec`` (a serialized spec) when given, else the flat parameters that are not ``None``."""
        if isinstance(spec, cls):
            return spec
        if spec is not None:
            return cls.from_dict(dict(spec))  # type: ignore[arg-type]
        unknown = set(params) - set(cls.names())
        if unknown:
            raise TypeError(f"{cls.__name__} has no option(s) {sorted(unknown)}")
        return cls(**{k: v for k, v in params.items() if v is not None})

    @classmethod
    def split(cls, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """A trigger's keywords as (this spec's flat options, the rest): a trigger takes the options
        under the spec's field names without listing them again."""
        names = set(cls.names())
        return {k: v for k, v in kwargs.items() if k in names}, {
            k: v for k, v in kwargs.items() if k not in names
        }

    @classmethod
    def of(cls: type[S], owner: Any) -> S:
        """The spec from the (rendered) attributes of the operator or sensor that holds the options."""
        return cls.from_params(**{name: getattr(owner, name) for name in cls.names()})

    @classmethod
    def from_dict(cls: type[S], data: dict[str, Any]) -> S:
        unknown = set(data) - set(cls.names())
        if unknown:
            raise ValueError(f"unknown {cls.cloud} wait option(s): {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def policy(self) -> UploadPolicy:
        return UploadPolicy(
            on_failed_file=getattr(self, "on_failed_file", "fail"),
            on_backup_file=getattr(self, "on_backup_file", "warn"),
        )


@dataclass(frozen=True)
class TrtcWaitSpec(WaitSpec):
    """How to decide that a TRTC recording is uploaded (see the TRTC sensor for each option)."""

    cloud: ClassVar[str] = "trtc"

    storage: str = "auto"
    wait_for_mp4: bool = False
    on_failed_file: str = "fail"
    on_backup_file: str = "wait"
    callback_receiver_url: str | None = None
    file_url_template: str | None = None
    check_playlists: bool = False
    #: seconds a VOD completion is held after the 312 for a late-retried 311 (0: complete at the 312)
    vod_commit_grace: float = VOD_COMMIT_GRACE_SECONDS

    def __post_init__(self) -> None:
        if self.storage not in TRTC_STORAGE_CHOICES:
            raise RtcValidationError("storage", f"must be one of {TRTC_STORAGE_CHOICES}", self.storage)
        object.__setattr__(self, "vod_commit_grace", grace_seconds(self.vod_commit_grace))
        object.__setattr__(self, "wait_for_mp4", bool(self.wait_for_mp4))
        object.__setattr__(self, "check_playlists", bool(self.check_playlists))
        object.__setattr__(self, "callback_receiver_url", self.callback_receiver_url or None)
        object.__setattr__(self, "file_url_template", self.file_url_template or None)
        self.policy  # noqa: B018 - validates the two policy choices
        if self.file_url_template:
            check_file_url_template(self.file_url_template)


@dataclass(frozen=True)
class ZegoWaitSpec(WaitSpec):
    """How to decide that a ZEGO recording is uploaded: what a failed or backup-only file does."""

    cloud: ClassVar[str] = "zego"

    on_failed_file: str = "fail"
    on_backup_file: str = "warn"

    def __post_init__(self) -> None:
        if self.on_backup_file not in ZEGO_BACKUP_CHOICES:
            raise RtcValidationError(
                "on_backup_file",
                f"must be one of {ZEGO_BACKUP_CHOICES} for ZEGO (file Status 4 is final)",
                self.on_backup_file,
            )
        self.policy  # noqa: B018 - validates on_failed_file


def grace_seconds(value: Any, param: str = "vod_commit_grace") -> float:
    """``vod_commit_grace`` as seconds >= 0: a number, a numeric string (a rendered template) or a
    ``timedelta``. An unrendered Jinja string is kept as is: it is checked again once rendered."""
    from airflow_provider_rtc import validation as v

    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return value  # type: ignore[return-value]  # the DAG is being parsed; execute renders it
    if isinstance(value, timedelta):
        value = value.total_seconds()
    seconds = v.number(value, param, minimum=0.0, maximum=MAX_GRACE_SECONDS)
    return float(seconds or 0.0)


#: a day: a longer hold is a typo (the retry window it covers is a minute)
MAX_GRACE_SECONDS = 86400.0


FILE_URL_PLACEHOLDERS = ("task_id", "sdk_app_id", "file_name")


def check_file_url_template(template: str) -> None:
    """A typo in a placeholder fails when the task is built, not after the recording was stopped."""
    from airflow_provider_rtc.errors import RtcValidationError

    try:
        template.format(**dict.fromkeys(FILE_URL_PLACEHOLDERS, "x"))
    except (KeyError, IndexError, ValueError) as err:
        raise RtcValidationError(
            "file_url_template",
            f"str.format template with only {{task_id}}, {{sdk_app_id}} and {{file_name}} ({err!r})",
            template,
        ) from None


class SpecOf(Generic[S]):
    """``spec = SpecOf(TrtcWaitSpec)`` on a sensor or operator: a read-only property that builds the
    spec from the holder's (rendered) flat options, so a wrong option fails where it is read."""

    def __init__(self, spec_class: type[S]) -> None:
        self.spec_class = spec_class

    @overload
    def __get__(self, holder: None, holder_type: type | None = None) -> SpecOf[S]: ...
    @overload
    def __get__(self, holder: object, holder_type: type | None = None) -> S: ...
    def __get__(self, holder: object | None, holder_type: type | None = None) -> S | SpecOf[S]:
        return self if holder is None else self.spec_class.of(holder)

    def __set__(self, holder: object, value: Any) -> None:
        raise AttributeError("spec is built from the flat options; set those instead")


def refuse_key_with_deferrable(callback_key: str | None, deferrable: bool) -> None:
    """A trigger's arguments are stored in the metadata database: no secret may travel there."""
    if callback_key and deferrable:
        raise RtcValidationError(
            "callback_key",
            "cannot be combined with deferrable=True: a trigger's arguments are stored in the metadata "
            "database. Put the secret in the tencentcloud connection extra 'callback_secret'.",
        )
