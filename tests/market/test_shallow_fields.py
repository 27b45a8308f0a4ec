"""`ShallowFields`: an input serializer whose plain fields are copied shallowly
validates exactly as DRF's deep copies do, and no instance changes another's
fields or the declared ones."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from exchange.api.serializers import OrderInput


class DeepOrderInput(OrderInput):
    """OrderInput with DRF's own field copies."""

    def get_fields(self):
        return copy.deepcopy(self._declared_fields)


def test_each_instance_has_its_own_bound_fields():
    first, second = OrderInput(data={}), OrderInput(data={})
    for name, field in first.fields.items():
        declared = OrderInput._declared_fields[name]
        assert field is not declared
        assert field is not second.fields[name]
        assert field.parent is first
        assert second.fields[name].parent is second
        assert field.field_name == name
        assert getattr(declared, "parent", None) is None  # the declared one: unbound
    # A nested serializer is its own deep copy, bound to this instance.
    constraints = first.fields["constraints"]
    assert constraints.fields["stacks"].child.parent is constraints.fields["stacks"]


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(
        [
            "",
            "BENCH-1",
            "buy",
            "sell",
            "limit",
            "market",
            "IOC",
            "GTC",
            "12.50",
            "1e2",
            "0.5",
            "-1",
            "a b",
            "2030-01-01T00:00:00+08:00",
            "yesterday",
            "x" * 70,
        ]
    ),
    st.lists(st.sampled_from(["CUDA", "", "x y"]), max_size=3),
    st.fixed_dictionaries({}, optional={"stacks": st.just(["CUDA"])}),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*OrderInput._declared_fields, "unknown"]), VALUES, max_size=8
    )
)
def test_validates_as_drfs_deep_copies_do(body):
    shallow, deep = OrderInput(data=body), DeepOrderInput(data=body)
    assert shallow.is_valid() == deep.is_valid()
    assert shallow.errors == deep.errors
    if not shallow.errors:
        assert shallow.validated_data == deep.validated_data


def test_errors_of_one_instance_stay_its_own():
    bad = OrderInput(data={"side": "sideways", "quantity": 5})
    good = OrderInput(data={"instrument": "BENCH-1", "side": "buy", "quantity": "1.0"})
    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert set(bad.errors) >= {"instrument", "side", "quantity"}
    assert isinstance(good.fields["side"], serializers.ChoiceField)
