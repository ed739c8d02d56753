"""POST of the self-reviews: questions a user asks about themselves, answered and never stored.

* SelfSubjectReview (`kubectl auth whoami`): who the server thinks you are.
* SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`): would this request be allowed, here.
* SelfSubjectRulesReview (`kubectl auth can-i --list`): everything you may do in a namespace.

The answers come from the same authorizer that guards every request, in the workspace the question is sent to.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controlplane import errors
from controlplane.apiserver.handlers.context import Context, check_type
from controlplane.apiserver.negotiation import decode_body
from controlplane.apiserver.security import AUTHORIZER_KEY, USER_KEY
from controlplane.auth.authz import is_master
from controlplane.auth.rbac import Attributes, UserInfo

REVIEWS = {
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
}


def _user_info(user: UserInfo) -> dict[str, Any]:
    info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    return info


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def access_attributes(user: UserInfo, spec: dict[str, Any]) -> Attributes:
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if isinstance(resource, dict) == isinstance(non_resource, dict):
        raise errors.invalid("SelfSubjectAccessReview", "", "authorization.k8s.io", [errors.Cause(
            "spec.resourceAttributes", "Invalid value: exactly one of nonResourceAttributes or resourceAttributes "
            "must be specified", "FieldValueInvalid",
        )])
    if isinstance(resource, dict):
        return Attributes(
            user, str(resource.get("verb") or ""), True, api_group=str(resource.get("group") or ""),
            resource=str(resource.get("resource") or ""), subresource=str(resource.get("subresource") or ""),
            namespace=str(resource.get("namespace") or ""), name=str(resource.get("name") or ""),
        )
    attrs = _dict(non_resource)
    return Attributes(user, str(attrs.get("verb") or ""), False, path=str(attrs.get("path") or ""))


def _rules(ctx: Context, user: UserInfo, namespace: str) -> dict[str, Any]:
    if is_master(user):
        return {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    resource_rules, non_resource_rules = ctx.request.app[AUTHORIZER_KEY].policy(ctx.ws).rules_review(user, namespace)
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": False}


async def review(ctx: Context) -> web.StreamResponse:
    body = check_type(ctx, decode_body(await ctx.request.read(), ctx.request.headers.get("Content-Type", "")))
    user: UserInfo = ctx.request[USER_KEY]
    spec = _dict(body.get("spec"))
    if ctx.rt.plural == "selfsubjectreviews":
        status: dict[str, Any] = {"userInfo": _user_info(user)}
    elif ctx.rt.plural == "selfsubjectaccessreviews":
        allowed, reason = ctx.request.app[AUTHORIZER_KEY].authorize(ctx.ws, access_attributes(user, spec))
        status = {"allowed": allowed}
        if allowed:  # a denial's reason is the forbidden message, which `kubectl auth can-i` would print after "no"
            status["reason"] = reason
    else:
        status = _rules(ctx, user, str(spec.get("namespace") or ""))
    metadata = {**_dict(body.get("metadata")), "creationTimestamp": None}
    answer = {"apiVersion": ctx.rt.api_version, "kind": ctx.rt.kind, "metadata": metadata, "status": status}
    if ctx.rt.plural != "selfsubjectreviews":
        answer["spec"] = spec
    return ctx.respond(answer, 201)
