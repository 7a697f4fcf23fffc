from django.db import migrations

DEFAULT_SYNONYMS = [
    "身份证 居民身份证", "社保 社会保险", "公积金 住房公积金", "医保 医疗保险 医疗保障", "户口 户籍",
    "驾照 驾驶证 驾驶执照", "行驶证 机动车行驶证", "养老金 退休金 养老保险金", "低保 最低生活保障",
    "房产证 不动产权证书 不动产证", "营业执照 执照", "出生证 出生医学证明", "结婚证 结婚登记",
    "离婚 离婚登记", "护照 普通护照", "港澳通行证 往来港澳通行证", "台湾通行证 往来台湾通行证",
    "残疾证 残疾人证", "失业金 失业保险金", "生育津贴 生育保险待遇", "上学 入学", "幼儿园 学前教育",
    "小孩 孩子 子女 小朋友 娃", "老人 老年人", "自来水 水费 用水", "电费 用电 供电", "燃气 天然气 煤气",
    "企业 公司", "个体户 个体工商户", "新生儿 宝宝 婴儿", "异地就医 跨省就医", "灵活就业 自由职业",
    "丢了 丢失 遗失", "补办 补领 重新办理", "换证 换领", "提取 取出 支取", "迁户口 户口迁移 迁入 迁出",
    "罚单 违章 交通违法", "年检 年审 检验", "居住证 暂住证", "社保卡 社会保障卡 医保卡", "三胎 三孩", "二胎 二孩",
]


def forwards(apps, schema_editor):
    Synonym = apps.get_model("knowledge", "Synonym")
    for terms in DEFAULT_SYNONYMS:
        Synonym.objects.get_or_create(terms=terms)


def backwards(apps, schema_editor):
    apps.get_model("knowledge", "Synonym").objects.filter(terms__in=DEFAULT_SYNONYMS).delete()


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_fulltext")]
    operations = [migrations.RunPython(forwards, backwards)]
