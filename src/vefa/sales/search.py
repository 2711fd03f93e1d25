"""How sales records appear in the global search index."""

from __future__ import annotations

from vefa.platform import search
from vefa.sales.models import Contract, Opportunity, Order, Product, Quote


def product_document(product: Product) -> search.SearchDocument | None:
    return search.SearchDocument(
        title=f"{product.sku} · {product.name}",
        subtitle=product.category.name if product.category_id and product.category else "",
        text=" ".join(p for p in (product.sku, product.name, product.description[:500]) if p),
    )


def opportunity_document(opportunity: Opportunity) -> search.SearchDocument | None:
    customer = opportunity.customer
    return search.SearchDocument(
        title=opportunity.name,
        subtitle=f"{customer.display_name} · {opportunity.amount:.2f} {opportunity.currency}",
        text=" ".join(
            p for p in (opportunity.name, customer.display_name, opportunity.next_step) if p
        ),
        owner_id=opportunity.owner_id,
        team_id=opportunity.team_id,
        customer_id=opportunity.customer_id,
    )


def quote_document(quote: Quote) -> search.SearchDocument | None:
    customer = quote.customer
    return search.SearchDocument(
        title=f"{quote.number}/{quote.revision}",
        subtitle=f"{customer.display_name} · {quote.total:.2f} {quote.currency}",
        text=" ".join(p for p in (quote.number, customer.display_name) if p),
        owner_id=quote.owner_id,
        team_id=quote.team_id,
        customer_id=quote.customer_id,
    )


def order_document(order: Order) -> search.SearchDocument | None:
    customer = order.customer
    return search.SearchDocument(
        title=order.number,
        subtitle=f"{customer.display_name} · {order.total:.2f} {order.currency}",
        text=" ".join(p for p in (order.number, order.external_id, customer.display_name) if p),
        owner_id=order.owner_id,
        team_id=order.team_id,
        customer_id=order.customer_id,
    )


def contract_document(contract: Contract) -> search.SearchDocument | None:
    customer = contract.customer
    return search.SearchDocument(
        title=f"{contract.number} · {contract.title}",
        subtitle=customer.display_name,
        text=" ".join(p for p in (contract.number, contract.title, customer.display_name) if p),
        owner_id=contract.owner_id,
        team_id=contract.team_id,
        customer_id=contract.customer_id,
    )


search.register("sales.product", product_document, select_related=("category",))
search.register("sales.opportunity", opportunity_document, select_related=("customer",))
search.register("sales.quote", quote_document, select_related=("customer",))
search.register("sales.order", order_document, select_related=("customer",))
search.register("sales.contract", contract_document, select_related=("customer",))
