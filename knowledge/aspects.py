"""What a question asks about, and whether an entry's sources say it.

"疗休养能带家属吗" is about 疗休养, but what it asks is whether family may come; an answer
that describes the programme without a word on family answers the neighbouring question.
A small vocabulary says how each aspect is asked (`asks`) and what a source sentence that
answers it looks like (`evidence`). The reply then leads with a direct sentence on the
aspect: what the source says, or that it does not say it.

Data, not rules per question: adding an aspect is adding a row here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Aspect:
    name: str
    label: str             # how the reply names it: "资料没有写明{label}"
    asks: re.Pattern       # the question asks about it
    evidence: re.Pattern   # a source sentence that gives it


def _re(pattern: str) -> re.Pattern:
    return re.compile(pattern)


# Order matters: the first aspect a question matches is the one it asks about ("在哪家医院" is the
# provider, not the address; "每人补多少钱" the amount, not the cost).
ASPECTS: tuple[Aspect, ...] = (
    Aspect("eligibility", "谁可以参加、要什么条件",
           _re(r"条件|资格|谁能|谁可以|什么人|哪些人|符合|要求|能不能参加|可以参加吗|能参加吗|离异|几岁|年龄|够格"),
           _re(r"对象|面向|符合条件|条件|资格|凡是|年满|周岁|岁以")),
    Aspect("family", "能不能带家属",
           _re(r"家属|家人|老婆|老公|媳妇|爱人|配偶|孩子|小孩|子女|父母|爸妈|亲属|带.{0,4}(一起|同去|去)"),
           _re(r"家属|家人|配偶|子女|亲属|父母")),
    Aspect("provider", "具体是哪家医院或机构",
           _re(r"哪家医院|哪个医院|什么医院|哪些医院|医院|哪家驾校|哪个驾校|驾校|哪家机构|哪个机构|哪些单位|哪家单位|合作.{0,4}(哪|谁)"),
           _re(r"医院|驾校|[^，。]{2,12}(机构|中心|学校|大学|学院|公司|银行)")),
    Aspect("phone", "联系电话",
           _re(r"电话|手机号|联系方式|热线|号码|怎么联系|联系谁"),
           _re(r"\d{7,}|电话|热线")),
    Aspect("hours", "开放时间",
           _re(r"几点|开门|关门|营业时间|开放时间|上班时间|周末开|晚上.{0,3}(开|能去)|全天"),
           _re(r"\d{1,2}[:：]\d{2}|\d{1,2}点|开放时间|全天|24小时")),
    Aspect("address", "具体地址",
           _re(r"地址|门牌|在哪里(?!办|申请|报名|领|弄)|在哪儿|在哪(?![弄办领交报申登注])|哪条路|什么位置|具体位置|分别在"
               r"|都在哪|怎么走|什么地方|哪些地方"),
           _re(r"\d+号|[^，。]{2,8}(路|街|大道|巷)(?![线子径])|大厦|位于|地址|门牌")),
    Aspect("per_person", "每人具体能得到多少",
           _re(r"(每人|每个人|一个人|每名|人均|一人|每位|每次|一次|每条|一条|每项).{0,8}(多少|几|补|赔|报|交|拿|奖|给)"),
           _re(r"每人|每名|人均|每位|每次|每条|每项|最高.{0,6}\d")),
    Aspect("amount", "具体金额和标准",
           _re(r"多少钱|(补|赔|报|报销|拿|给|发)多少(?![人个名家场次项批期天])|能补|能报|能拿|奖金|金额|标准|比例|百分之|几块"
               r"|多少元|最多.{0,4}(赔|补|报)"),
           _re(r"\d[\d.]*\s*(万元|元|块)|每人.{0,6}\d|标准|比例|%|百分之|全额")),
    Aspect("cost", "是否收费、收多少",
           _re(r"收费|收不收|要钱|要不要钱|花钱|交钱|交多少|缴多少|会费|费用|免费吗|自费|多少费"),
           _re(r"免费|收费|费用|自费|\d[\d.]*\s*元|会费")),
    Aspect("apply", "怎么申请、在哪里办",
           _re(r"怎么申请|如何申请|怎样申请|怎么报名|如何报名|在哪报名|去哪报名|报名|怎么办理|如何办理|去哪办|去哪里办|哪里办"
               r"|流程|手续|材料|怎么领|去哪领|怎么预约|预约|怎么参加|如何参加|怎么弄|在哪弄"),
           _re(r"申请|报名|办理|登录|扫码|预约|流程|小程序|APP|app|平台|一键")),
    Aspect("time", "具体时间",
           _re(r"什么时候|啥时候|哪天|哪几天|哪些天|几号|几月|日期|截止|期限|多久|下一场|下一期|时间"),
           _re(r"\d{1,2}月\d{1,2}日|\d{1,2}月|期间|截至|截止|每月|每年")),
    Aspect("items", "具体内容或名单",
           _re(r"具体内容|哪些内容|都有哪些|分别是哪|具体是哪[些几两三四五六七八九十][条项个家样种大]?|是哪[几两三四五六七八九十][条项个家样种大]|哪几[条项个家样种]|都去哪|都查哪|哪些项目|什么项目"
               r"|都包括|包括哪|清单|名单"),
           _re(r"包括[^。]{0,40}、[^。]{0,40}、|分别是|如下|[:：][^。]{0,40}、[^。]{0,40}、")),
)
BY_NAME = {a.name: a for a in ASPECTS}


def asked(question: str) -> Aspect | None:
    """The aspect the question asks about, if it asks about one (the first in ASPECTS order)."""
    for aspect in ASPECTS:
        if aspect.asks.search(question):
            return aspect
    return None


def evidence(aspect: Aspect, quotes: list[str]) -> str | None:
    """The clause of the quotes that gives the aspect, or None when they do not say it."""
    for quote in quotes:
        for clause in re.split(r"(?<=[。；！？])", quote):
            if clause.strip() and aspect.evidence.search(clause):
                return clause.strip()
    return None
