"""Reading the ``exp`` claim of a JWT access token, standard library only and unverified.

The client only needs to know when its own token expires; verifying the signature is the
API's job. Anything that is not a well-formed JWT with a numeric ``exp`` yields None.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Optional

from ._token_cache import finite_seconds


def jwt_claims(token: str) -> Optional[dict[str, Any]]:
    """The payload of a JWT (``header.payload.signature``) as a dict, or None; never raises."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (ValueError, binascii.Error, RecursionError):  # bad base64, UTF-8 or JSON
        return None
    return claims if isinstance(claims, dict) else None


def jwt_expiry(token: str) -> Optional[float]:
    """The ``exp`` claim (seconds since the epoch) of a JWT, or None when there is none."""
    claims = jwt_claims(token)
    exp = claims.get("exp") if claims else None
    return finite_seconds(exp) if isinstance(exp, (int, float)) else None
