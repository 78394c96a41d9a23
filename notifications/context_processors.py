from django.utils.functional import SimpleLazyObject

from notifications.selectors import inbox_unread_count


def inbox(request):
    """The header's unread badge. Lazy: a page that does not show it costs no query."""
    user = getattr(request, "user", None)
    return {"unread_messages": SimpleLazyObject(lambda: inbox_unread_count(user=user))}
