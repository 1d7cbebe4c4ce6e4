"""Writes the pages of this folder: a small tree shaped like ONLYOFFICE's docs-api (Docusaurus:
docs/ and a Chinese translation under i18n/zh/), with the defects such a tree carries when a gate is
turned on: stale sample tokens (signed over an older example, or with another secret) and a schema
error, the translation repeating its page's tokens. Tokens are signed with PyJWT and the tests'
secret (tests/test_baseline.py: SECRET). Run it again to change the pages:
``.venv/bin/python tests/pages/docsapi_like/make_pages.py``."""

from __future__ import annotations

import json
from pathlib import Path

import jwt

SECRET = "oo-jwt-test-secret-0123456789abcdef"
OTHER = "a-secret-the-docs-used-years-ago-0123456789"  # signs a stale token that no longer verifies
HERE = Path(__file__).parent


def sign(payload: dict, secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def block(value: dict) -> str:
    return json.dumps(value, indent=4, ensure_ascii=False)


CONVERSION = {"async": False, "filetype": "docx", "key": "Khirz6zTPdfd7", "outputtype": "pdf",
              "title": "Example Document Title.docx", "url": "https://example.com/url-to-example-document.docx"}
THUMBNAIL = {"filetype": "docx", "key": "Khirz6zTPdfd7", "outputtype": "png",
             "thumbnail": {"aspect": 0, "first": True, "height": 150, "width": 100},
             "url": "https://example.com/url-to-example-document.docx"}
INFO = {"c": "info", "key": "Khirz6zTPdfd7"}
DROP = {"c": "drop", "key": "Khirz6zTPdfd7", "users": ["6d5a81d0"]}
CALLBACK = {"actions": [{"type": 0, "userid": "78e1e841"}], "changesurl": "https://example.com/url-to-changes.zip",
            "filetype": "docx", "key": "Khirz6zTPdfd7", "status": 2,
            "url": "https://example.com/url-to-edited-document.docx", "users": ["6d5a81d0"]}


def conversion(lang: str) -> str:
    stale = sign({**CONVERSION, "url": "https://example.com/url-to-old-document.docx"})  # the example moved on
    foreign = sign(THUMBNAIL, OTHER)  # signed with a secret the docs no longer use
    text = {
        "en": ("# Conversion API request", "## Converting a document",
               "Sample parameters of the request to convert the document:",
               "These parameters are encoded into the token, so that the request looks like this:",
               "## Creating a thumbnail", "Sample parameters of a request that makes a thumbnail:",
               "Sample token"),
        "zh": ("# 文档转换 API 请求", "## 转换文档",
               "请求转换文档的示例参数:",
               "这些参数被编码到令牌中, 因此请求如下所示:",
               "## 创建缩略图", "创建缩略图请求的示例参数:",
               "示例令牌"),
    }[lang]
    title, h_convert, lead, encoded, h_thumb, lead_thumb, sample = text
    return f"""---
sidebar_position: 2
---

{title}

{h_convert}

{lead}

```json
{block(CONVERSION)}
```

{encoded}

```http
POST /converter HTTP/1.1
Host: documentserver
Content-Type: application/json

{{
    "token": "{stale}"
}}
```

{h_thumb}

{lead_thumb}

```json
{block(THUMBNAIL)}
```

{sample}

```
{foreign}
```
"""


def command() -> str:
    stale = sign({"payload": {**INFO, "key": "af86C7e71Ca8"}})  # signs another document's key
    body = sign(DROP)
    return f"""# info

Your document storage service asks Document Server who is editing a document with the `info`
command. Wrap the body in a `payload` member before signing it:

```json
{block({"payload": INFO})}
```

The whole request then reads:

```http
POST /command HTTP/1.1
Host: documentserver
Content-Type: application/json
Authorization: Bearer {stale}

{block(INFO)}
```

## drop

The `drop` command disconnects the users you list from the editing session:

```json
{block({**DROP, "token": body})}
```
"""


def callback() -> str:
    stale = sign({**CALLBACK, "users": ["78e1e841"]})  # the example's users changed since
    return f"""# Callback handler

The document editing service informs the document storage service about the status of the
document editing using the callbackUrl from the editor config.

## Status 2: the document is ready for saving

```json
{block({**CALLBACK, "token": stale})}
```

## Status 1: the document is being edited

```json
{block({"actions": [{"type": 1, "userid": "78e1e841"}], "key": "Khirz6zTPdfd7", "status": "1", "users": ["78e1e841"]})}
```
"""


def main() -> None:
    docs = HERE / "docs" / "docs-api"
    zh = HERE / "i18n" / "zh" / "docusaurus-plugin-content-docs" / "current" / "docs-api"
    pages = {
        docs / "additional-api" / "conversion-api" / "request.md": conversion("en"),
        zh / "additional-api" / "conversion-api" / "request.md": conversion("zh"),
        docs / "additional-api" / "command-service" / "info.md": command(),
        docs / "usage-api" / "callback-handler.md": callback(),
    }
    for path, text in pages.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
