"""Saved views: own and team-shared, validation, the include on list pages."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from vefa.common.errors import NotFound, ValidationFailed
from vefa.platform.models import SavedView
from vefa.platform.selectors import saved_view_get, saved_views_for
from vefa.platform.services import saved_view_create, saved_view_delete

pytestmark = pytest.mark.django_db


def _view(actor, name="Mine", *, share=False, list_key="customers", filters=None):
    return saved_view_create(
        actor=actor,
        list_key=list_key,
        name=name,
        filters=filters if filters is not None else {"stage": "lead", "owner": "me"},
        columns=["name", "owner"],
        sort="-created",
        share_with_team=share,
    )


def test_a_view_is_private_unless_shared_with_the_team(rep, rep_same_team, rep_other_team):
    private = _view(rep, "Private")
    shared = _view(rep, "Shared", share=True)

    assert [v.name for v in saved_views_for(actor=rep, list_key="customers")] == [
        "Private",
        "Shared",
    ]
    assert [v.name for v in saved_views_for(actor=rep_same_team, list_key="customers")] == [
        "Shared"
    ]
    assert saved_views_for(actor=rep_other_team, list_key="customers") == []
    assert saved_views_for(actor=rep, list_key="leads") == []
    assert saved_view_get(actor=rep_same_team, pk=shared.pk) == shared
    for pk in (private.pk, "x", None, 10**30):
        with pytest.raises(NotFound):
            saved_view_get(actor=rep_same_team, pk=pk)


def test_only_the_owner_deletes_a_view(rep, rep_same_team):
    shared = _view(rep, "Shared", share=True)
    with pytest.raises(NotFound):
        saved_view_delete(actor=rep_same_team, pk=shared.pk)
    assert SavedView.objects.filter(pk=shared.pk).exists()
    saved_view_delete(actor=rep, pk=shared.pk)
    assert not SavedView.objects.filter(pk=shared.pk).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": 12}, "name"),
        ({"list_key": "<script>"}, "list_key"),
        ({"filters": {"a": {"nested": "x"}}}, "filters"),
        ({"filters": {"a": ["x", "y"]}}, "filters"),
        ({"filters": ["a", "b"]}, "filters"),
        ({"filters": {f"k{i}": "v" for i in range(41)}}, "filters"),
        ({"filters": {"q": "x" * 501}}, "filters"),
        ({"filters": {"k" * 51: "x"}}, "filters"),
        ({"columns": "name"}, "columns"),
        ({"columns": [1, 2]}, "columns"),
        ({"sort": "s" * 51}, "sort"),
    ],
)
def test_bad_views_are_refused_and_nothing_is_stored(rep, changes, field):
    data = {
        "list_key": "customers",
        "name": "View",
        "filters": {},
        "columns": [],
        "sort": "",
        "share_with_team": False,
        **changes,
    }
    with pytest.raises(ValidationFailed) as error:
        saved_view_create(actor=rep, **data)
    assert field in error.value.fields
    assert SavedView.objects.count() == 0


def test_sharing_needs_a_team(rep_no_team):
    with pytest.raises(ValidationFailed) as error:
        _view(rep_no_team, share=True)
    assert "share_with_team" in error.value.fields


def test_paging_parameters_are_not_saved_and_hostile_values_stay_text(rep):
    view = _view(
        rep,
        "<script>alert(1)</script>",
        filters={"cursor": "abc", "q": "=cmd|' /C calc'!A0", "view": "3"},
    )
    assert view.filters == {"q": "=cmd|' /C calc'!A0"}
    assert view.name == "<script>alert(1)</script>"


def test_saving_the_current_query_from_a_list_page(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("platform:saved_view_create"),
        {
            "list_key": "customers",
            "name": "  My leads ",
            "query": "stage=lead&owner=me&cursor=xyz&sort=-created",
            "share_with_team": "1",
            "next": "/customers/",
        },
    )
    view = SavedView.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/?view={view.pk}"
    assert view.name == "My leads"
    assert view.filters == {"stage": "lead", "owner": "me", "sort": "-created"}
    assert view.sort == "-created"
    assert view.team_id == rep.team_id


def test_a_bad_save_from_a_page_stores_nothing_and_redirects_back(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("platform:saved_view_create"),
        {"list_key": "customers", "name": "", "query": "a=b", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SavedView.objects.count() == 0


def test_deleting_someone_elses_view_from_a_page_is_not_found(client, rep, rep_same_team):
    shared = _view(rep, "Shared", share=True)
    client.force_login(rep_same_team)
    response = client.post(reverse("platform:saved_view_delete", args=[shared.pk]))
    assert response.status_code == 404
    assert SavedView.objects.filter(pk=shared.pk).exists()


def test_the_include_lists_views_and_offers_to_save_the_query(rep, rep_same_team):
    _view(rep, "<b>Bold</b>")
    _view(rep_same_team, "Team view", share=True)
    request = RequestFactory().get("/customers/", {"stage": "lead"})
    request.user = rep
    html = Template(
        '{% include "platform/includes/saved_views.html" with list_key="customers" %}'
    ).render(Context({"request": request}))
    assert "?view=" in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html
    assert "Team view" in html
    assert 'value="stage=lead"' in html
    # A colleague's shared view can be used, not deleted
    assert html.count("platform_saved_view_delete") == 0
    assert html.count('action="/saved-views/') == 1 + 1  # one delete form, one save form
