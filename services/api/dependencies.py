"""Request dependencies shared by every router: the runtime, the acting principal, the
idempotency key."""

import re
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from services.api.auth import actor_from_authorization
from services.bootstrap import Runtime
from services.domain.actors import Actor
from services.domain.errors import RuleViolation

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


# Dependencies are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a hop per
# request each; only what may wait on the network goes there.
async def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def _actor(request: Request, authorization: Annotated[str | None, Header(description="Bearer 令牌")] = None) -> Actor:
    verifier, remembered = request.app.state.token_verifier, request.app.state.verified_tokens
    actor = remembered.actor(authorization)  # verified lately: nothing to check again
    if actor is None and verifier.may_block:  # the provider's keys may have to be fetched: not on the event loop
        actor = await run_in_threadpool(actor_from_authorization, authorization, verifier, remembered)
    elif actor is None:
        actor = actor_from_authorization(authorization, verifier, remembered)
    request.state.actor = actor  # for the request log
    if request.app.state.limits is not None:
        request.app.state.limits.admit(f"{actor.department}|{actor.region}|{actor.user}")
    return actor


async def _idempotency_key(
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="幂等键：同一键的重复请求只记录一次，返回原结果")
    ] = None,
) -> str | None:
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise RuleViolation(
            "IDEMPOTENCY_KEY_INVALID",
            "Idempotency-Key 应为1至128个可见 ASCII 字符",
            "Idempotency-Key must be 1-128 visible ASCII characters",
        )
    return idempotency_key


ActorDep = Annotated[Actor, Depends(_actor)]
KeyDep = Annotated[str | None, Depends(_idempotency_key)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
