"""Event (v1): the lenient legacy validation kube-apiserver still applies to core/v1 Events.

Events are written by every component, old and new, so the v1 API checks little: the name only has to be usable
in a URL, the involved object's namespace must agree with the event's own, and only events in the newer style
(those with an `eventTime`) must name their reporting controller, instance, action and reason. No field is
defaulted and nothing is immutable beyond metadata.
"""

from __future__ import annotations

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, Strategy
from controlplane.registry.formats import is_dns1123_subdomain, is_qualified_name, name_is_path_segment
from controlplane.registry.values import as_dict, as_str

LENGTH_LIMITS = (("reportingInstance", 128), ("action", 128), ("reason", 128))
NOTE_LENGTH_LIMIT = 1024


class EventStrategy(Strategy):
    kind = "Event"
    name_validator = staticmethod(name_is_path_segment)
    kube_finalizers = False

    def validate_object(self, obj: Object) -> list[Cause]:
        namespace = as_str(as_dict(obj.get("metadata")).get("namespace"))
        involved_namespace = as_str(as_dict(obj.get("involvedObject")).get("namespace"))
        mismatch = f.invalid("involvedObject.namespace", involved_namespace, "does not match event.namespace")
        causes: list[Cause] = []
        if not obj.get("eventTime"):
            if involved_namespace:
                if namespace != involved_namespace:
                    causes.append(mismatch)
            elif namespace not in ("", "default"):
                causes.append(mismatch)
        else:
            if not involved_namespace and namespace not in ("default", "kube-system"):
                causes.append(mismatch)
            controller = as_str(obj.get("reportingComponent"))
            if not controller:
                causes.append(f.required("source"))
            causes.extend(f.invalid("source", controller, msg) for msg in is_qualified_name(controller))
            for member, limit in LENGTH_LIMITS:
                value = as_str(obj.get(member))
                if not value:
                    causes.append(f.required(member))
                if len(value.encode()) > limit:
                    causes.append(f.invalid(member, "", f"can have at most {limit} characters"))
            if len(as_str(obj.get("message")).encode()) > NOTE_LENGTH_LIMIT:
                causes.append(f.invalid("message", "", f"can have at most {NOTE_LENGTH_LIMIT} characters"))
        causes.extend(f.invalid("namespace", namespace, msg) for msg in is_dns1123_subdomain(namespace))
        return causes
