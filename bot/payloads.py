"""Typed models of what DingTalk POSTs to us (robot messages, card callbacks).

Bodies are parsed from the raw bytes with ``model_validate_json``: a malformed or absurdly deep
document becomes a ValidationError (400), never a RecursionError (500).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Id = Annotated[str, Field(min_length=1, max_length=200)]
OptId = Annotated[str | None, Field(default=None, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TextBody(_Model):
    content: Annotated[str, Field(max_length=20000)] = ""


class AtUser(_Model):
    dingtalkId: OptId = None
    staffId: OptId = None


class PictureContent(_Model):
    downloadCode: Id
    pictureDownloadCode: OptId = None


class RichTextItem(_Model):
    text: Annotated[str | None, Field(default=None, max_length=20000)] = None
    downloadCode: OptId = None
    pictureDownloadCode: OptId = None
    type: Annotated[str | None, Field(default=None, max_length=40)] = None


class RichTextContent(_Model):
    richText: Annotated[list[RichTextItem], Field(max_length=200)] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(item.text or "" for item in self.richText)

    @property
    def download_codes(self) -> list[str]:
        return [item.downloadCode for item in self.richText if item.downloadCode]


class AudioContent(_Model):
    downloadCode: Id
    recognition: Annotated[str | None, Field(default=None, max_length=20000)] = None
    duration: int | str | None = None


class VideoContent(_Model):
    downloadCode: Id
    duration: int | str | None = None
    videoType: Annotated[str | None, Field(default=None, max_length=20)] = None


class FileContent(_Model):
    downloadCode: Id
    fileName: Annotated[str, Field(max_length=255)] = "文件"
    spaceId: OptId = None
    fileId: OptId = None


class UnknownContent(_Model):
    unknownMsgType: Annotated[str | None, Field(default=None, max_length=2000)] = None


MessageBody = (
    TextBody | PictureContent | RichTextContent | AudioContent | VideoContent | FileContent | UnknownContent
)

_CONTENT_MODELS: dict[str, type[_Model]] = {
    "picture": PictureContent,
    "richText": RichTextContent,
    "audio": AudioContent,
    "video": VideoContent,
    "file": FileContent,
}


class RobotMessage(_Model):
    """One robot message callback (§1.1 of the protocol notes)."""

    msgtype: Annotated[str, Field(min_length=1, max_length=40)]
    msgId: Id
    createAt: int | None = None
    conversationType: Literal["1", "2"]
    conversationId: Id
    conversationTitle: Annotated[str | None, Field(default=None, max_length=200)] = None
    senderId: OptId = None
    senderStaffId: OptId = None
    senderNick: Annotated[str | None, Field(default=None, max_length=100)] = None
    senderCorpId: OptId = None
    isAdmin: bool | None = None
    chatbotUserId: OptId = None
    chatbotCorpId: OptId = None
    robotCode: OptId = None
    isInAtList: bool | None = None
    atUsers: Annotated[list[AtUser], Field(max_length=200)] = Field(default_factory=list)
    sessionWebhook: Annotated[str | None, Field(default=None, max_length=1000)] = None
    sessionWebhookExpiredTime: int | None = None
    text: TextBody | None = None
    content: dict[str, Any] | None = None

    @field_validator("createAt", "sessionWebhookExpiredTime", mode="before")
    @classmethod
    def _int_from_string(cls, value: Any) -> Any:
        # The official table says String for createAt; samples send numbers. Accept both.
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    @property
    def is_group(self) -> bool:
        return self.conversationType == "2"

    @property
    def kind(self) -> str:
        """text, picture, richText, audio, video, file or unknown."""
        if self.msgtype == "text" or self.msgtype in _CONTENT_MODELS:
            return self.msgtype
        return "unknown"

    def body(self) -> MessageBody:
        """The typed payload for this message type. Raises ValidationError when it does not fit."""
        if self.msgtype == "text":
            return self.text or TextBody()
        model = _CONTENT_MODELS.get(self.msgtype)
        if model is None:
            return UnknownContent.model_validate(self.content or {})
        if self.content is None:
            raise ValueError(f"msgtype {self.msgtype} 缺少 content")
        return model.model_validate(self.content)  # type: ignore[return-value]

    @property
    def command_text(self) -> str:
        """The text after the @-mention, with the leading space (group) stripped."""
        if self.msgtype == "text" and self.text is not None:
            return self.text.content.strip()
        if self.msgtype == "richText" and self.content:
            try:
                return RichTextContent.model_validate(self.content).text.strip()
            except ValidationError:
                return ""
        return ""


class CardPrivateData(_Model):
    actionIds: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=20)] = Field(
        default_factory=list
    )
    params: dict[str, Any] = Field(default_factory=dict)


class CardActionContent(_Model):
    cardPrivateData: CardPrivateData = Field(default_factory=CardPrivateData)


class CardCallback(_Model):
    """A card button click or form submission (§5.4). ``content``/``value`` are JSON strings."""

    outTrackId: Id
    userId: Id
    corpId: OptId = None
    userIdType: int | None = None
    type: Annotated[str | None, Field(default=None, max_length=40)] = None
    spaceType: Annotated[str | None, Field(default=None, max_length=40)] = None
    spaceId: OptId = None
    content: Annotated[str | None, Field(default=None, max_length=60000)] = None
    value: Annotated[str | None, Field(default=None, max_length=60000)] = None
    extension: Annotated[str | None, Field(default=None, max_length=10000)] = None

    @property
    def raw_action(self) -> str:
        return self.value or self.content or ""

    def action(self) -> CardActionContent:
        """Decode the second layer. Raises ValidationError on bad JSON or bad shape."""
        raw = self.raw_action
        if not raw:
            return CardActionContent()
        return CardActionContent.model_validate_json(raw)
