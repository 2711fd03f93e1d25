"""Reads of the sales catalogue, always for an actor (policy ``sales.product``).

Everyone with a role may read the catalogue; ``restrict`` still applies so an inactive
user reads nothing. Lists are keyset pages (no COUNT) so they stay fast at any size.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet

from vefa.accounts.access import policy_key_of, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.common.paging import Page, keyset_page
from vefa.sales.models import (
    Competitor,
    ExchangeRate,
    Opportunity,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    Stage,
)
from vefa.sales.services._common import as_pk, not_found

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_QUERY = 200


def _get(queryset: QuerySet[Any], *, actor: User, pk: Any) -> Any:
    record = restrict(queryset, actor, "view").filter(pk=as_pk(pk)).first()
    if record is None:
        raise not_found()
    return record


# --- categories --------------------------------------------------------------------------


class CategoryNode(NamedTuple):
    """A category as the tree and the pickers need it (no full model instance)."""

    pk: int
    name: str
    parent_id: int | None
    version: int

    @property
    def id(self) -> int:
        return self.pk


_tree_cache: dict[str, Any] = {}


def _build_tree(rows: list[CategoryNode]) -> list[tuple[CategoryNode, int]]:
    children: dict[int | None, list[CategoryNode]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    result: list[tuple[CategoryNode, int]] = []
    seen: set[int] = set()
    stack: list[tuple[CategoryNode, int]] = [(n, 0) for n in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        if node.pk in seen:
            continue
        seen.add(node.pk)
        result.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(node.pk, [])))
    return result


def _whole_tree() -> list[tuple[CategoryNode, int]]:
    """The whole tree, rebuilt only when a category was added, changed or deleted.

    Every page of the product list shows the category picker; one aggregate query tells
    whether the tree this process built last is still current.
    """
    stamp = ProductCategory.objects.aggregate(n=Count("pk"), top=Max("pk"), last=Max("updated_at"))
    key = (stamp["n"], stamp["top"], stamp["last"])
    if _tree_cache.get("key") != key:
        rows = [
            CategoryNode(*row)
            for row in ProductCategory.objects.order_by("name", "id").values_list(
                "pk", "name", "parent_id", "version"
            )
        ]
        _tree_cache.update(key=key, tree=_build_tree(rows))
    return list(_tree_cache["tree"])


def category_tree(*, actor: User) -> list[tuple[CategoryNode, int]]:
    """Every category the actor may see with its depth, parents before their children,
    siblings by name. Categories are few (hundreds): the tree is built in Python."""
    if scope_for(actor, policy_key_of(ProductCategory), "view") == Scope.ALL:
        return _whole_tree()
    rows = [
        CategoryNode(*row)
        for row in restrict(ProductCategory.objects.all(), actor, "view")
        .order_by("name", "id")
        .values_list("pk", "name", "parent_id", "version")
    ]
    return _build_tree(rows)


def category_choices(*, actor: User, limit: int = 500) -> list[tuple[int, str]]:
    """(id, name) of the categories the actor may see, by name: the choices of a picker."""
    return [(node.pk, node.name) for node, _depth in category_tree(actor=actor)][:limit]


def category_descendants(category_id: int) -> list[int]:
    """``category_id`` and the ids of every category below it."""
    below: dict[int, list[int]] = {}
    for node, _depth in _whole_tree():
        if node.parent_id is not None:
            below.setdefault(node.parent_id, []).append(node.pk)
    result, todo = [], [category_id]
    while todo:
        key = todo.pop()
        if key in result:
            continue
        result.append(key)
        todo.extend(below.get(key, []))
    return result


def category_get(*, actor: User, pk: Any) -> ProductCategory:
    return _get(ProductCategory.objects.select_related("parent"), actor=actor, pk=pk)


# --- products ----------------------------------------------------------------------------


# A text search lists at most this many products found by word (newest first); more
# matches ask the user to type more (``ProductFilters.truncated``).
MAX_WORD_MATCHES = 100
# Up to this many categories (one with its sub-categories) are read one index range each.
MAX_CATEGORY_BRANCHES = 40


def product_word_matches(q: str) -> tuple[list[int], bool]:
    """Products with a word (in the SKU, name or description) starting with every word of
    ``q``, from the search index (Turkish, Serbian and Persian aware, newest first), and
    whether there were more than ``MAX_WORD_MATCHES``."""
    from vefa.platform.search import backends
    from vefa.platform.search.registry import model_key
    from vefa.platform.search.terms import query_terms

    terms = query_terms(q)
    if not terms:
        return [], False
    hits = backends.match(
        model_key=model_key("sales.product"), terms=terms, access=None, limit=MAX_WORD_MATCHES + 1
    )
    ids = [hit.object_id for hit in hits]
    return ids[:MAX_WORD_MATCHES], len(ids) > MAX_WORD_MATCHES


@dataclass
class ProductFilters:
    """The product list's filters (page and API): text, category (with sub-categories),
    active or not.

    The text matches the start of the SKU (as typed or upper-cased) or the start of any word
    of the name or description, so "kah" finds "Türk kahvesi" and "khv-0" finds "KHV-001".
    """

    q: str = ""
    category: int | None = None
    active: bool | None = None
    truncated: bool = field(default=False, init=False)
    _branches: list[Q] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_query(cls, query: Any) -> ProductFilters:
        """Filters from request parameters; values that make no sense are ignored."""
        q = str(query.get("q") or "").strip()[:MAX_QUERY]
        category: int | None = None
        raw = str(query.get("category") or "").strip()
        if raw.isdigit() and len(raw) < 19:
            category = int(raw)
        active_raw = str(query.get("active") or "").strip().lower()
        active = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
        return cls(q=q, category=category, active=active.get(active_raw))

    def search_branches(self) -> list[Q]:
        """The conditions a text search matches any of: an SKU prefix (written as a range
        so both databases read the SKU index; ``startswith`` keeps it exact under any
        collation) or one of the products the search index found by word."""
        if self._branches is not None:
            return self._branches
        branches: list[Q] = []
        if self.q:
            for term in dict.fromkeys([self.q, self.q.upper()]):
                branches.append(
                    Q(sku__gte=term, sku__lt=term + "\U0010ffff") & Q(sku__startswith=term)
                )
            ids, self.truncated = product_word_matches(self.q)
            if ids:
                branches.append(Q(pk__in=ids))
        self._branches = branches
        return branches

    def apply(self, queryset: QuerySet[Product], *, search: bool = True) -> QuerySet[Product]:
        """Filter ``queryset``; ``search=False`` leaves the text search to the caller
        (``product_page`` reads each search branch on its own)."""
        branches = self.search_branches() if search else []
        if branches:
            match = branches[0]
            for branch in branches[1:]:
                match |= branch
            queryset = queryset.filter(match)
        if self.category is not None:
            ids = category_descendants(self.category)
            queryset = (
                queryset.filter(category_id=ids[0])
                if len(ids) == 1
                else queryset.filter(category_id__in=ids)
            )
        if self.active is not None:
            queryset = queryset.filter(is_active=self.active)
        return queryset


def product_list(
    *, actor: User, filters: ProductFilters | None = None, search: bool = True
) -> QuerySet[Product]:
    qs = restrict(Product.objects.all(), actor, "view").select_related("category")
    if filters is not None:
        qs = filters.apply(qs, search=search)
    return qs.order_by("name", "id")


def product_page(
    *,
    actor: User,
    filters: ProductFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
    detailed: bool = False,
) -> Page[Product]:
    """One keyset page of products by name (a bounded number of queries, no COUNT).

    Each search branch (an SKU prefix, the products found by word) is read as its own
    ordered range and the page merged from them. Without a search, a category with
    sub-categories is read the same way, one ``(category, name)`` index range per category,
    instead of walking the name index and fetching rows until a page of them is found.
    """
    branches = filters.search_branches() if filters is not None else []
    qs = product_list(actor=actor, filters=filters, search=len(branches) < 2)
    if not branches and filters is not None and filters.category is not None:
        ids = category_descendants(filters.category)
        if 1 < len(ids) <= MAX_CATEGORY_BRANCHES:
            branches = [Q(category_id=key) for key in ids]
    if detailed:
        qs = qs.prefetch_related("tags")
    return keyset_page(
        qs,
        ordering="name",
        cursor=cursor,
        size=size,
        any_of=branches if len(branches) > 1 else None,
    )


def product_get(*, actor: User, pk: Any) -> Product:
    """One product with its category and tags."""
    return _get(
        Product.objects.select_related("category", "category__parent").prefetch_related("tags"),
        actor=actor,
        pk=pk,
    )


def product_prices(*, actor: User, product: Product, limit: int = 100) -> list[PriceListItem]:
    """The product's prices in price lists (active lists first), for its page."""
    qs = restrict(PriceListItem.objects.all(), actor, "view").filter(product=product)
    return list(
        qs.select_related("price_list", "price_list__customer_group").order_by(
            "-price_list__is_active", "price_list__name", "price_list_id", "min_quantity"
        )[:limit]
    )


def product_choices(*, actor: User, q: str = "", limit: int = 50) -> list[Product]:
    """Active products matching ``q`` (SKU prefix or name), for pickers."""
    filters = ProductFilters(q=q.strip()[:MAX_QUERY], active=True)
    rows = product_list(actor=actor, filters=filters).select_related(None)
    return list(rows.only("pk", "sku", "name")[:limit])


# --- price lists -------------------------------------------------------------------------


def price_list_list(*, actor: User) -> list[PriceList]:
    """Every price list (they are few), active first, by name."""
    qs = restrict(PriceList.objects.all(), actor, "view").select_related("customer_group")
    return list(qs.order_by("-is_active", "name", "id")[:1000])


def price_list_page(*, actor: User, cursor: str | None = None, size: int = 50) -> Page[PriceList]:
    qs = restrict(PriceList.objects.all(), actor, "view").select_related("customer_group")
    return keyset_page(qs, ordering="name", cursor=cursor, size=size)


def price_list_get(*, actor: User, pk: Any) -> PriceList:
    return _get(PriceList.objects.select_related("customer_group"), actor=actor, pk=pk)


def price_list_item_page(
    *, actor: User, price_list: PriceList, cursor: str | None = None, size: int = 100
) -> Page[PriceListItem]:
    """The list's prices, oldest first, a keyset page at a time."""
    qs = (
        restrict(PriceListItem.objects.all(), actor, "view")
        .filter(price_list=price_list)
        .select_related("product")
    )
    return keyset_page(qs, ordering="id", cursor=cursor, size=size)


def price_list_item_get(*, actor: User, pk: Any) -> PriceListItem:
    return _get(PriceListItem.objects.select_related("product", "price_list"), actor=actor, pk=pk)


# --- exchange rates ----------------------------------------------------------------------


@dataclass
class RateFilters:
    currency: str = ""
    quote_currency: str = ""
    day_from: datetime.date | None = None
    day_to: datetime.date | None = None

    @classmethod
    def from_query(cls, query: Any) -> RateFilters:
        def code(name: str) -> str:
            value = str(query.get(name) or "").strip().upper()
            return value if len(value) == 3 and value.isalpha() else ""

        def day(name: str) -> datetime.date | None:
            value = str(query.get(name) or "").strip()[:10]
            try:
                return datetime.date.fromisoformat(value) if value else None
            except ValueError:
                return None

        return cls(
            currency=code("currency"),
            quote_currency=code("quote_currency"),
            day_from=day("day_from"),
            day_to=day("day_to"),
        )

    def apply(self, queryset: QuerySet[ExchangeRate]) -> QuerySet[ExchangeRate]:
        if self.currency:
            queryset = queryset.filter(currency=self.currency)
        if self.quote_currency:
            queryset = queryset.filter(quote_currency=self.quote_currency)
        if self.day_from:
            queryset = queryset.filter(day__gte=self.day_from)
        if self.day_to:
            queryset = queryset.filter(day__lte=self.day_to)
        return queryset


def exchange_rate_page(
    *,
    actor: User,
    filters: RateFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[ExchangeRate]:
    """Exchange rates, newest day first."""
    qs = restrict(ExchangeRate.objects.all(), actor, "view")
    if filters is not None:
        qs = filters.apply(qs)
    return keyset_page(qs, ordering="-day", cursor=cursor, size=size)


def exchange_rate_get(*, actor: User, pk: Any) -> ExchangeRate:
    return _get(ExchangeRate.objects.all(), actor=actor, pk=pk)


# --- competitors -------------------------------------------------------------------------


def competitor_page(
    *, actor: User, q: str = "", cursor: str | None = None, size: int = 50
) -> Page[Competitor]:
    qs = restrict(Competitor.objects.all(), actor, "view")
    if q.strip():
        qs = qs.filter(name__icontains=q.strip()[:MAX_QUERY])
    return keyset_page(qs, ordering="name", cursor=cursor, size=size)


def competitor_get(*, actor: User, pk: Any) -> Competitor:
    return _get(Competitor.objects.all(), actor=actor, pk=pk)


# --- pipelines ---------------------------------------------------------------------------


def _stages_with_use() -> QuerySet[Stage]:
    used = Opportunity.objects.filter(stage=OuterRef("pk"))
    return Stage.objects.annotate(in_use=Exists(used)).order_by("order", "id")


def pipeline_list(*, actor: User, with_stages: bool = True) -> list[Pipeline]:
    """Every pipeline (few) in display order; stages carry ``in_use`` (opportunities in it)."""
    qs = restrict(Pipeline.objects.all(), actor, "view").annotate(
        in_use=Exists(Opportunity.objects.filter(pipeline=OuterRef("pk")))
    )
    if with_stages:
        qs = qs.prefetch_related(Prefetch("stages", queryset=_stages_with_use()))
    return list(qs.order_by("order", "name", "id")[:200])


def pipeline_get(*, actor: User, pk: Any) -> Pipeline:
    return _get(
        Pipeline.objects.prefetch_related(Prefetch("stages", queryset=_stages_with_use())),
        actor=actor,
        pk=pk,
    )


def stage_get(*, actor: User, pk: Any) -> Stage:
    return _get(Stage.objects.select_related("pipeline"), actor=actor, pk=pk)


# --- the price of a line -----------------------------------------------------------------


@dataclass(frozen=True)
class LinePrice:
    """What ``vefa.sales.pricing.price_for`` found for a product, currency and quantity."""

    product: Product
    currency: str
    quantity: Decimal
    unit_price: Decimal | None
    price_list: PriceList | None

    @property
    def source(self) -> str:
        if self.unit_price is None:
            return "none"
        return "price_list" if self.price_list is not None else "list_price"

    def as_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product.pk,
            "currency": self.currency,
            "quantity": str(self.quantity),
            "unit_price": None if self.unit_price is None else str(self.unit_price),
            "source": self.source,
            "price_list_id": self.price_list.pk if self.price_list else None,
            "price_list_name": self.price_list.name if self.price_list else None,
            "tax_rate": str(self.product.tax_rate),
        }


def product_price(
    *,
    actor: User,
    product_id: Any,
    currency: Any,
    quantity: Any = "1",
    customer_id: Any = None,
    on: datetime.date | None = None,
) -> LinePrice:
    """The unit price of a product for a line (quotes and orders fill lines with it).

    The customer's groups count only when the actor may see the customer; a hidden customer
    is refused exactly like a missing one.
    """
    from vefa.sales.pricing import customer_tag_ids, price_for
    from vefa.sales.services._common import as_currency, as_quantity, customer_visible

    product = product_get(actor=actor, pk=product_id)
    code = as_currency(currency)
    amount = as_quantity(quantity)
    tags: set[int] = set()
    if customer_id not in (None, ""):
        customer = customer_visible(actor=actor, customer_id=customer_id)
        tags = customer_tag_ids(customer.pk)
    price = price_for(product, currency=code, quantity=amount, customer_tag_ids=tags, on=on)
    return LinePrice(
        product=product,
        currency=code,
        quantity=amount,
        unit_price=price.unit_price if price else None,
        price_list=price.price_list if price else None,
    )
