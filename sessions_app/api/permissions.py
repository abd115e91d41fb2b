from rest_framework.permissions import SAFE_METHODS, BasePermission

from sessions_app.models import OPERATE_PERMISSION


class CanOperateOrReadOnly(BasePermission):
    """Everyone logged in reads; changing anything needs the operate_session permission."""

    message = "You may look at sessions but not act on them (operate_session permission needed)."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.has_perm(OPERATE_PERMISSION)
