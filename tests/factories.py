"""factory_boy factories for the organisation and the hotline loop."""
import factory

from tongban.cases.models import CaseType, Category
from tongban.core.models import Level, Region, Unit, UnitKind, User


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:06d}")
    name = factory.Sequence(lambda n: f"测试区划{n}")
    level = Level.COUNTY


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = UnitKind.DEPARTMENT
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"工作人员{n}")
    roles = "handler"

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or "Tongban#2026")
        if create:
            user.save(update_fields=["password"])


class CaseTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseType
        django_get_or_create = ("code",)

    code = "complaint"
    name = "投诉"
    workflow = "hotline"
    sign_limit = 1
    finish_limit_days = 5


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("full_name",)

    name = "市政设施"
    level = 1
    full_name = factory.LazyAttribute(lambda o: o.name)
