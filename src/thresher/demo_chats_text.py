"""The texts of the synthetic support chat logs (``thresher.demo_chats``): system prompts,
boilerplate, intents with their answers, held-out questions and the slot values that fill them.

Every text here was written for this project; the generator that draws from them lives in
``demo_chats``, so that its logic reads without 470 lines of phrases in between.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BOILERPLATE", "EVAL_QUESTIONS", "HOLD_MESSAGES", "INTENTS", "REFUSALS",
           "SIGNATURE_MARKERS", "SYSTEM_PROMPTS", "VALUES", "Intent"]

SYSTEM_PROMPTS = {
    "en": "You are the customer support assistant of Pinecone Market, an online shop. Answer "
          "politely, correctly and briefly.",
    "zh": "你是网上商店松果商城的客服助手，请礼貌、准确、简洁地回答顾客的问题。",
}

BOILERPLATE: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "refusal": ("I'm sorry, but I can't help with that request.",
                    "I'm afraid I'm not able to share that information.",
                    "Unfortunately this is outside what I can help with in chat."),
        "hold": ("Please hold while I check that for you.", "One moment please.",
                 "Please bear with me while I look into this."),
        "greeting": ("Hi! I'm Pip, Pinecone Market's virtual assistant. How can I help you today?",
                     "Welcome to Pinecone Market support! An agent will be with you shortly.",
                     "Hello! Thanks for contacting Pinecone Market. Please describe your issue "
                     "and we'll connect you with an agent."),
        "signature": ("\n\nBest regards,\n{agent}\nPinecone Market Customer Care",
                      "\n\n— {agent} | Pinecone Market Support Team"),
        "nudge": ("hello??", "Is anyone there?", "still waiting...", "Hello? I need help"),
        "reaction": ("That's not helpful at all.", "Seriously? ok whatever",
                     "Then who can help me?"),
        "thanks": ("Thanks!", "Great, thank you.", "perfect, thanks a lot", "ok thx",
                   "Thank you, that helps."),
        "bye": ("You're welcome, {name}! Have a lovely day.", "Happy to help! Enjoy your day.",
                "Anytime! Take care.", "Glad I could help, {name}."),
        "detail": ("My email is {email} by the way", "my number is {phone} if you need to call",
                   "It's under the name {full_name}, email {email}",
                   "sorry, the order number is {order}", "You can also reach me on {phone}",
                   "hello?"),
    },
    "zh": {
        "refusal": ("抱歉，这个问题我无法帮您处理。", "很抱歉，相关信息不方便透露。",
                    "不好意思，这个不在我们的服务范围内。"),
        "hold": ("请稍等，我帮您查一下。", "请稍候。", "稍等一下，正在为您核实。"),
        "greeting": ("您好！我是松果商城智能助手小松，请问有什么可以帮您？",
                     "欢迎来到松果商城，人工客服马上为您服务。",
                     "您好，感谢联系松果商城，请描述您的问题，稍后为您转接人工客服。"),
        "signature": ("\n\n——松果商城客服{agent}，竭诚为您服务",),
        "nudge": ("在吗？", "有人吗？？", "还在等……", "人呢"),
        "reaction": ("这也太敷衍了吧", "好吧……", "那我找谁？"),
        "thanks": ("谢谢！", "好的，谢谢", "ok 多谢", "明白了，辛苦了", "好的好的，感谢"),
        "bye": ("不客气{name}，祝您生活愉快！", "很高兴为您服务，再见！",
                "不客气，有问题随时联系我们。", "应该的，祝您购物愉快～"),
        "detail": ("我的邮箱是{email}", "电话{phone}，有事打我", "收件人{full_name}，手机{phone}",
                   "不好意思，订单号是{order}", "实名信息：{full_name}，身份证号{cn_id}", "在吗？"),
    },
}
REFUSALS = tuple(t for lang in ("en", "zh") for t in BOILERPLATE[lang]["refusal"])
HOLD_MESSAGES = tuple(t for lang in ("en", "zh") for t in BOILERPLATE[lang]["hold"])
# a text holding one of these ends with an agent's signature
SIGNATURE_MARKERS = ("Pinecone Market Customer Care", "Pinecone Market Support Team",
                     "竭诚为您服务")

# Intents: customer openings ("ask"), agent answers, and (customer, agent) follow-ups.
# "goods" names the product category the intent talks about.
Intent = dict[str, Any]
INTENTS: dict[str, dict[str, list[Intent]]] = {"en": {
    "orders": [
        {"goods": "any",
         "ask": ["Hi, where is my order {order}? It still says processing.",
                 "hello, any update on order {order}?? placed it {ago}",
                 "Can you check the status of my order please? Number is {order}"],
         "answer": ["Thanks for waiting, {name}. Order {order} was packed this morning and ships "
                    "today; the tracking link arrives by email once it leaves our warehouse.",
                    "I've checked order {order}: it's confirmed and paid, and it is scheduled to "
                    "ship within 1 business day."],
         "follow": [("Will it arrive by {day}?",
                     "Standard delivery takes 3-5 business days after shipping, so {day} is "
                     "likely but I can't promise it. An express upgrade costs $9.95."),
                    ("ok and which courier do you use?",
                     "Your parcel goes with {carrier}. The tracking link in your shipping email "
                     "shows every step.")]},
        {"goods": "clothing",
         "ask": ["Can I still change the size on order {order}? I ordered {product} in size "
                 "{size} but need one size up.",
                 "Hi! I picked the wrong size for {product}, order {order}. Can you change it "
                 "before it ships?"],
         "answer": ["Good news, order {order} hasn't shipped yet, so I've changed {product} to "
                    "one size up. The price stays the same.",
                    "Done! I've updated the size on order {order}. It will ship within 1 "
                    "business day."],
         "follow": [("Thank you so much, that was quick",
                     "My pleasure, {name}! Anything else I can help with?")]},
        {"goods": "any",
         "ask": ["I want to cancel my order {order}, I ordered the wrong color",
                 "Please cancel order {order}. I found {product} cheaper elsewhere.",
                 "how do i cancel an order? it's {order}"],
         "answer": ["Order {order} is cancelled. The full amount of {amount} goes back to your "
                    "original payment method within 5-7 business days.",
                    "I've cancelled order {order} for you. You'll see the refund of {amount} on "
                    "your statement in 5-7 business days."],
         "follow": [("Will I get a confirmation?",
                     "Yes, a cancellation email is on its way to {email}.")]},
    ],
    "refunds": [
        {"goods": "any",
         "ask": ["I'd like to return {product}, it isn't what I expected. Order {order}.",
                 "Hi, {product} arrived damaged. I want a refund please. Order number {order}",
                 "how do I send back {product}? bought it 2 weeks ago"],
         "answer": ["I'm sorry about that, {name}. I've emailed a prepaid return label to "
                    "{email}. Once the parcel reaches us, we refund {amount} within 5-7 "
                    "business days.",
                    "You can return items within 30 days of delivery. I've started the return "
                    "for order {order}; print the label from your email and drop the parcel at "
                    "any {carrier} point."],
         "follow": [("Do I need the original box?",
                     "Any sturdy box is fine, the original packaging isn't required."),
                    ("Can I get store credit instead?",
                     "Of course. Store credit is issued as soon as the return is scanned, "
                     "usually faster than a card refund.")]},
        {"goods": "any",
         "ask": ["I returned {product} {ago} and still no refund. Order {order}",
                 "When will I get my money back for order {order}?",
                 "Hi, checking on my refund for {order}, it's been a while"],
         "answer": ["Your return for order {order} has reached us and the refund of {amount} "
                    "was issued today. Banks usually show it within 3-5 business days.",
                    "I can see the return for {order} is still on its way to our warehouse. "
                    "The refund of {amount} is issued the day it arrives."],
         "follow": [("ok. can you email me when it's done?",
                     "Sure, you'll get an email at {email} as soon as the refund is issued.")]},
        {"goods": "any",
         "ask": ["I was charged twice for order {order}!",
                 "There are two payments of {amount} on my card for one order ({order}). "
                 "Please fix this."],
         "answer": ["I'm sorry for the worry. The second charge of {amount} is a pending "
                    "authorisation that your bank releases within 3 days; you won't pay twice.",
                    "You're right, order {order} was charged twice. I've refunded the duplicate "
                    "payment of {amount}; it shows on your statement within 5-7 business days."],
         "follow": [("Can I get that in writing?",
                     "Yes, I've sent a confirmation of the refund to {email}.")]},
    ],
    "delivery": [
        {"goods": "any",
         "ask": ["My parcel was supposed to arrive {day} and it's still not here. Order {order}",
                 "where is my package?? tracking hasn't moved in {days} days",
                 "Hi, order {order} is late. Can you tell me what's going on?"],
         "answer": ["I'm sorry for the delay, {name}. {carrier} reports a backlog in your area; "
                    "your parcel is expected within 2 business days.",
                    "I checked with {carrier}: the parcel is at the local depot and out for "
                    "delivery tomorrow. If it isn't there by the end of the week, we'll send a "
                    "replacement at no cost."],
         "follow": [("What if it doesn't come?",
                     "Then let us know and we'll ship a replacement or refund {amount}, "
                     "whichever you prefer.")]},
        {"goods": "any",
         "ask": ["I need to change the delivery address for order {order}. New address: "
                 "{address}",
                 "Can you ship order {order} to my work address instead? It's {address}",
                 "wrong address on my order!! it should be {address}"],
         "answer": ["I've updated the delivery address on order {order} to {address}. It hasn't "
                    "shipped yet, so the change is in time.",
                    "Done. Your order will now go to {address}. You'll get a new confirmation "
                    "email."],
         "follow": [("Great, and the courier can call me on {phone}",
                     "Thanks, I've added your number to the delivery notes so {carrier} can "
                     "reach you.")]},
        {"goods": "any",
         "ask": ["Tracking says delivered but there's nothing here. Order {order}",
                 "My order {order} shows as delivered but I never got it",
                 "The courier left my parcel somewhere?? I don't have it"],
         "answer": ["I'm sorry, {name}. I've opened an investigation with {carrier}; it takes up "
                    "to 48 hours. If the parcel isn't found, we'll send a replacement for free.",
                    "Sometimes parcels are left with a neighbour or in a safe place. Could you "
                    "check around? If it's still missing tomorrow, we'll send a replacement."],
         "follow": [("My neighbour had it. Sorry for the trouble!",
                     "No trouble at all, glad it turned up! Enjoy {product}.")]},
    ],
    "accounts": [
        {"goods": "any",
         "ask": ["I can't log in, the password reset email never arrives",
                 "Hi, how do I reset my password?",
                 "reset link says expired. account email is {email}"],
         "answer": ["I've sent a new reset link to {email}. It's valid for 24 hours; if you "
                    "don't see it, please check your spam folder.",
                    "Click 'Forgot password' on the sign-in page and enter your email address. "
                    "The link we send is valid for 24 hours."],
         "follow": [("Got it, it worked. Thanks!", "Great to hear, {name}! Have a nice day.")]},
        {"goods": "any",
         "ask": ["How can I change the email on my account? The new one is {email}",
                 "Please update my phone number to {phone}",
                 "I want to change my account email from {email} to my work one"],
         "answer": ["You can change it under Account > Profile. I've also updated it for you on "
                    "our side; a confirmation is on its way.",
                    "I've updated your contact details. For security, we've sent a confirmation "
                    "message you need to approve within 24 hours."],
         "follow": [("Does this change where my order emails go?",
                     "Yes, all future order updates go to your new contact details.")]},
        {"goods": "any",
         "ask": ["Please delete my account and all my data.",
                 "How do I close my Pinecone Market account?",
                 "I want my account removed, email {email}"],
         "answer": ["I've submitted the deletion request. Your account and personal data are "
                    "removed within 30 days; invoices are kept as the law requires.",
                    "You can delete your account under Account > Privacy > Delete account. Your "
                    "data is erased within 30 days."],
         "follow": [("Can I still return an item after that?",
                     "Returns of past orders are still possible, just contact us with the order "
                     "number.")]},
    ],
    "products": [
        {"goods": "clothing",
         "ask": ["Does {product} run true to size?",
                 "I'm between sizes for {product}, which should I pick?",
                 "what are the measurements of {product} in size {size}?"],
         "answer": ["{Product} runs true to size. If you're between sizes, we suggest the larger "
                    "one; returns are free within 30 days.",
                    "The size chart on the product page lists exact measurements for each size. "
                    "Most customers choose their usual size."],
         "follow": [("And is it machine washable?",
                     "Yes, at 30°C on a gentle cycle. Please don't tumble dry.")]},
        {"goods": "any",
         "ask": ["Will {product} be back in stock soon?", "Is {product} available in {color}?",
                 "hi do you have {product} in stock? the page says sold out"],
         "answer": ["{Product} is expected back in stock in about two weeks. Click 'Notify me' "
                    "on the product page and we'll email you the moment it's available.",
                    "Right now {product} is available in black, grey and {color}. Stock changes "
                    "quickly, so I'd order soon if you like it."],
         "follow": [("Can I pre-order it?",
                     "Pre-orders aren't possible, but the 'Notify me' email arrives as soon as "
                     "stock is back.")]},
        {"goods": "electronics",
         "ask": ["Does {product} work with both Android and iPhone?",
                 "Is {product} compatible with my phone? I have an Android",
                 "will {product} work with an iphone 12"],
         "answer": ["Yes, {product} connects over standard Bluetooth, so it works with any "
                    "Android phone or iPhone.",
                    "It works with both Android and iOS. No app is needed, though our free app "
                    "adds an equaliser."],
         "follow": [("How long does the battery last?",
                     "Up to 20 hours on a full charge, and a 10-minute charge gives about 2 "
                     "hours.")]},
    ],
}, "zh": {
    "orders": [
        {"goods": "any",
         "ask": ["你好，我的订单{order}怎么还在处理中？", "请问订单{order}什么时候发货？{ago}就下单了",
                 "帮我查一下订单{order}的物流吧"],
         "answer": ["{name}您好，订单{order}今天上午已打包，预计今天发出，发货后会短信通知您物流单号。",
                    "已为您查询，订单{order}已付款成功，将在1个工作日内发货。"],
         "follow": [("{day}之前能到吗？",
                     "发货后普通快递一般3到5个工作日送达，{day}前大概率能到，但无法保证。如需加急可升级次日达，"
                     "加收15元。"),
                    ("用的哪家快递？", "您的包裹由{carrier}配送，发货后可在订单详情里查看物流。")]},
        {"goods": "clothing",
         "ask": ["订单{order}还能改尺码吗？{product}买了{size}码，想换大一码",
                 "你好，{product}尺码选错了，订单号{order}，发货前能帮我改一下吗"],
         "answer": ["订单{order}还没有发货，已帮您把{product}改成大一码，价格不变。",
                    "已修改订单{order}的尺码，预计1个工作日内发货。"],
         "follow": [("好的，谢谢你这么快", "不客气{name}，还有其他可以帮您的吗？")]},
        {"goods": "any",
         "ask": ["我要取消订单{order}，颜色拍错了", "麻烦取消订单{order}，别家更便宜",
                 "订单怎么取消？单号{order}"],
         "answer": ["订单{order}已取消，{amount}将在3到5个工作日内原路退回。",
                    "已为您取消订单{order}，退款{amount}会在3到5个工作日内到账。"],
         "follow": [("会有取消通知吗？", "会的，取消通知已经发送到您的手机{phone}。")]},
    ],
    "refunds": [
        {"goods": "any",
         "ask": ["{product}不合适，想退货，订单号{order}", "收到的{product}是坏的，我要退款！订单{order}",
                 "{product}买了两周了，怎么退回去？"],
         "answer": ["非常抱歉{name}，已为您提交退货申请，上门取件的快递员会联系您。仓库签收后3到5个工作日内退款"
                    "{amount}。",
                    "签收后30天内都可以退货。已为您创建订单{order}的退货单，请在订单详情里选择上门取件或自行寄回。"],
         "follow": [("需要原包装吗？", "不需要原包装，结实的纸箱就可以。"),
                    ("可以换成购物金吗？", "可以的，退货签收后购物金会立即到账，比原路退款更快。")]},
        {"goods": "any",
         "ask": ["{ago}就退货了，钱还没到账，订单{order}", "订单{order}的退款什么时候到？",
                 "你好，查一下{order}的退款进度"],
         "answer": ["订单{order}的退货已签收，退款{amount}今天已原路退回，银行一般3到5个工作日到账。",
                    "订单{order}的退货包裹还在运输中，仓库签收当天就会退款{amount}。"],
         "follow": [("好，到账了能通知我吗？", "可以，退款完成后会发短信到{phone}。")]},
        {"goods": "any",
         "ask": ["订单{order}被扣了两次钱！", "一个订单（{order}）扣了我两笔{amount}，请处理一下"],
         "answer": ["抱歉让您担心了，第二笔{amount}是银行的预授权，3天内会自动解冻，不会重复扣款。",
                    "确实重复扣款了，已为您退回多扣的{amount}，3到5个工作日内到账。"],
         "follow": [("能给我一个书面说明吗？", "可以，退款说明已发送到您的邮箱{email}。")]},
    ],
    "delivery": [
        {"goods": "any",
         "ask": ["说好{day}到的，现在还没到，订单{order}", "我的快递呢？物流{days}天没更新了",
                 "订单{order}怎么这么慢，什么情况？"],
         "answer": ["{name}您好，非常抱歉，{carrier}反馈您所在区域件量较大，包裹预计2个工作日内送达。",
                    "已联系{carrier}，包裹已到当地网点，明天派送。如果本周内还没收到，我们免费补发。"],
         "follow": [("要是一直不到怎么办？", "那请您联系我们，可以补发或者退款{amount}，由您选择。")]},
        {"goods": "any",
         "ask": ["订单{order}要改地址，新地址是{address}", "能不能把订单{order}寄到公司？地址：{address}",
                 "地址填错了！！应该是{address}"],
         "answer": ["已将订单{order}的收货地址改为{address}，订单还未发货，修改来得及。",
                    "好的，订单将寄往{address}，稍后会收到新的确认短信。"],
         "follow": [("快递员可以打我电话{phone}", "好的，已把您的电话备注给{carrier}，方便快递员联系您。")]},
        {"goods": "any",
         "ask": ["物流显示已签收，但我没收到，订单{order}", "订单{order}显示送达了，可是我根本没拿到",
                 "快递员把我的包裹放哪了？？"],
         "answer": ["非常抱歉{name}，已向{carrier}发起查件，48小时内给您答复；如果找不到，我们免费补发。",
                    "有时包裹会放在快递柜、驿站或者邻居家，麻烦您先找一下。如果明天还找不到，我们为您补发。"],
         "follow": [("在快递柜里找到了，不好意思！", "没关系，找到就好！祝您使用愉快。")]},
    ],
    "accounts": [
        {"goods": "any",
         "ask": ["登录不上，重置密码的邮件一直收不到", "你好，密码怎么重置？", "重置链接说已过期，账号邮箱是{email}"],
         "answer": ["已重新发送重置链接到{email}，24小时内有效，如果没看到请检查垃圾邮件。",
                    "在登录页点击“忘记密码”，输入手机号或邮箱即可，重置链接24小时内有效。"],
         "follow": [("好了，可以登录了，谢谢", "太好了{name}，祝您购物愉快！")]},
        {"goods": "any",
         "ask": ["怎么改账号绑定的手机号？新号码是{phone}", "请帮我把邮箱改成{email}",
                 "实名认证信息填错了，身份证号应该是{cn_id}"],
         "answer": ["可以在“我的-账号设置”里修改，我们这边也已帮您更新，稍后会收到确认短信。",
                    "已为您更新信息。为了账号安全，请在24小时内点击确认短信里的链接。"],
         "follow": [("以后订单通知会发到新号码吗？", "会的，之后的订单通知都会发到新的联系方式。")]},
        {"goods": "any",
         "ask": ["请注销我的账号并删除所有数据", "松果商城的账号怎么注销？", "我要注销账号，手机号{phone}"],
         "answer": ["已提交注销申请，账号和个人信息将在30天内删除；发票会按法律要求保留。",
                    "可以在“我的-隐私设置-注销账号”里操作，数据会在30天内清除。"],
         "follow": [("注销以后还能退货吗？", "之前订单的退货仍然可以办理，联系客服并提供订单号即可。")]},
    ],
    "products": [
        {"goods": "clothing",
         "ask": ["{product}尺码标准吗？", "{product}我在两个码之间，选哪个好？", "{product}{size}码的具体尺寸是多少？"],
         "answer": ["{product}尺码标准，如果在两个码之间建议选大一码，30天内可免费退换。",
                    "商品详情页的尺码表有每个尺码的具体尺寸，大部分顾客选平时穿的尺码就合适。"],
         "follow": [("可以机洗吗？", "可以，30度轻柔模式机洗，请不要烘干。")]},
        {"goods": "any",
         "ask": ["{product}什么时候补货？", "{product}有{color}的吗？", "你好，{product}还有货吗？页面显示售罄了"],
         "answer": ["{product}预计两周左右补货，点击商品页的“到货通知”，到货后第一时间通知您。",
                    "目前{product}有黑色、灰色和{color}，库存变化比较快，喜欢的话建议尽早下单。"],
         "follow": [("可以预订吗？", "暂不支持预订，但到货通知会在补货后第一时间发给您。")]},
        {"goods": "electronics",
         "ask": ["{product}安卓和苹果手机都能用吗？", "{product}跟我的安卓手机兼容吗？", "{product}支持iPhone 12吗"],
         "answer": ["可以的，{product}使用标准蓝牙连接，安卓和苹果手机都能用。",
                    "安卓和iOS都支持，不需要下载App，不过我们的免费App可以调节音效。"],
         "follow": [("电池能用多久？", "充满电可以用20小时左右，充电10分钟能用约2小时。")]},
    ],
}}

# Held-out questions for the eval set, phrased unlike anything in the logs: (question, answer).
EVAL_QUESTIONS: dict[str, dict[str, list[tuple[str, str]]]] = {"en": {
    "orders": [
        ("Hello, could you tell me whether order {order} has been shipped yet?",
         "Order {order} has been packed and leaves our warehouse today. You'll receive a tracking "
         "link by email once it ships."),
        ("Is there any way to speed up delivery for an order I placed this morning?",
         "If the order hasn't shipped yet, we can upgrade it to express delivery (1-2 business "
         "days) for $9.95. Share the order number and I'll do it."),
        ("I accidentally ordered {product} twice. Can you cancel one of them?",
         "Of course. Tell me which order number to cancel; the refund goes back to your original "
         "payment method within 5-7 business days.")],
    "refunds": [
        ("How many days do I have to send back {product}?",
         "You can return it within 30 days of delivery. Start the return in your order history "
         "and we'll email you a prepaid label."),
        ("My refund for order {order} hasn't appeared on my card. What should I do?",
         "Refunds are issued the day your return reaches us and show on your statement within "
         "5-7 business days. If it's been longer, send us your statement and we'll trace it."),
        ("Can I exchange {product} for a different color instead of getting a refund?",
         "Yes. Start a return and choose 'Exchange'; we ship the new color as soon as the return "
         "is scanned.")],
    "delivery": [
        ("Do you deliver on weekends?",
         "Our couriers deliver Monday to Saturday. Sunday delivery isn't available at the "
         "moment."),
        ("How much is shipping for an order of {amount}?",
         "Standard shipping is free on orders over $50; below that it costs $4.95. Express "
         "delivery is $9.95."),
        ("The courier tried to deliver order {order} while I was out. What now?",
         "{carrier} will try again on the next business day. You can also pick the parcel up at "
         "the nearest {carrier} point with the code on their card.")],
    "accounts": [
        ("Can I shop without creating an account?",
         "Yes, you can check out as a guest. You'll still get order updates by email, but you "
         "won't have an order history."),
        ("Why was my account locked after I entered my password?",
         "After five failed sign-in attempts the account is locked for 30 minutes for security. "
         "A password reset unlocks it right away."),
        ("How do I unsubscribe from your marketing emails?",
         "Click 'Unsubscribe' at the bottom of any newsletter, or turn off marketing emails "
         "under Account > Notifications.")],
    "products": [
        ("Is {product} covered by a warranty?",
         "Yes, {product} comes with a two-year warranty against manufacturing defects. Keep your "
         "order confirmation as proof of purchase."),
        ("Can I buy a gift card for a friend?",
         "Yes, digital gift cards from $10 to $200 are on our Gift Cards page and are delivered "
         "by email."),
        ("What material is {product} made of?",
         "The full material list is on the product page under 'Details'. If anything is "
         "unclear, tell me what you'd like to know.")],
}, "zh": {
    "orders": [
        ("你好，帮我看看订单{order}发货了没有？", "订单{order}已打包，今天从仓库发出，发货后会短信通知您物流单号。"),
        ("今天上午下的单能加急吗？", "如果订单还没发货，可以升级为次日达，加收15元。请提供订单号，我帮您操作。"),
        ("{product}不小心下了两单，能取消一个吗？",
         "当然可以，请告诉我要取消的订单号，款项会在3到5个工作日内原路退回。")],
    "refunds": [
        ("{product}收到后多少天内可以退？", "签收后30天内可以退货，在订单详情里申请退货，我们会安排上门取件。"),
        ("订单{order}的退款一直没到银行卡，怎么办？",
         "仓库签收退货当天就会退款，一般3到5个工作日到账。如果超过时间还没到，请提供银行流水，我们帮您追查。"),
        ("{product}能不能换个颜色，不退款？", "可以的，申请退货时选择“换货”，仓库签收后马上为您寄出新颜色。")],
    "delivery": [
        ("周末送货吗？", "快递周一到周六都可以派送，周日暂不配送。"),
        ("买{amount}的东西运费多少？", "订单满99元包邮，不满99元运费8元，次日达另加15元。"),
        ("快递员送订单{order}的时候我不在家，怎么办？",
         "{carrier}会在下一个工作日再次派送，您也可以凭取件码到附近的{carrier}网点自取。")],
    "accounts": [
        ("不注册账号能买东西吗？", "可以，支持游客下单，订单通知会发到您的手机，但不会保存订单记录。"),
        ("为什么输了几次密码账号就被锁了？", "为了账号安全，连续输错5次密码会锁定30分钟，重置密码可以立即解锁。"),
        ("怎么取消营销短信？", "回复TD即可退订，或者在“我的-消息设置”里关闭营销通知。")],
    "products": [
        ("{product}有保修吗？", "有的，{product}享受两年质保，请保留订单确认信息作为购买凭证。"),
        ("可以给朋友买礼品卡吗？", "可以，礼品卡页面有10元到1000元的电子礼品卡，会通过短信发送。"),
        ("{product}是什么材质的？", "商品详情页的“规格参数”里有完整的材质说明，有不清楚的地方可以随时问我。")],
}}

VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "first": ("Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sofia",
                  "Mason", "Chloe", "Aiden", "Grace", "Owen", "Zoe", "Ryan", "Hannah", "Leo",
                  "Nora", "Isaac"),
        "last": ("Carter", "Nguyen", "Patel", "Brooks", "Kim", "Rossi", "Murphy", "Okafor",
                 "Schmidt", "Lopez", "Walsh", "Fischer"),
        "agent": ("Daniel", "Priya", "Tom", "Sara", "Marco", "Julia", "Ben", "Aisha"),
        # singular on purpose: templates say "{product} runs", "does {product} work"
        "clothing": ("the merino wool sweater", "the linen shirt", "the trail running jacket",
                     "the kids' rain jacket", "the denim jacket", "the hiking fleece"),
        "electronics": ("the Bluetooth speaker", "the smart watch", "the wireless headset",
                        "the fitness tracker"),
        "home": ("the cast-iron skillet", "the linen duvet cover", "the bamboo cutting board",
                 "the desk lamp", "the yoga mat", "the stainless water bottle",
                 "the ceramic pour-over set", "the cotton bathrobe"),
        "ago": ("two days ago", "last week", "on Monday", "5 days ago", "over a week ago"),
        "day": ("Friday", "Saturday", "next Monday", "the 15th", "Wednesday"),
        "color": ("navy", "sage green", "sand", "burgundy", "charcoal"),
        "size": ("S", "M", "L", "XL"),
        "carrier": ("ParcelGo", "SwiftShip", "Northline Express"),
        "street": ("Maple Avenue", "Oak Street", "Harbor Road", "Willow Lane", "Cedar Court",
                   "Elm Drive", "Birch Way", "Lakeview Terrace"),
        "town": ("Riverton, OR", "Fairview, TX", "Greenfield, MA", "Lakewood, CO",
                 "Milford, CT", "Springdale, AR"),
        "domain": ("example.com", "example.net", "example.org", "mail.example.com"),
        "area": ("212", "312", "415", "503", "617", "702", "808", "919"),
    },
    "zh": {
        "surname": ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"),
        "given": ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰", "娟", "涛", "秀英",
                  "晓明"),
        "pinyin": ("wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu"),
        "agent": ("小雨", "小林", "阿杰", "小美", "小周", "小陈"),
        "clothing": ("羊毛衫", "亚麻衬衫", "越野夹克", "儿童雨衣", "牛仔外套", "抓绒衣"),
        "electronics": ("蓝牙音箱", "智能手表", "无线耳机", "运动手环"),
        "home": ("铸铁平底锅", "亚麻被套", "竹制砧板", "护眼台灯", "瑜伽垫", "不锈钢保温杯",
                 "手冲咖啡壶套装", "纯棉浴巾"),
        "ago": ("两天前", "上周", "周一", "五天前", "一个多星期前"),
        "day": ("周五", "周六", "下周一", "15号", "周三"),
        "color": ("藏青色", "浅绿色", "米色", "酒红色", "炭灰色"),
        "size": ("S", "M", "L", "XL"),
        "carrier": ("速达快递", "云路物流", "北辰速运"),
        "city": ("上海市徐汇区漕溪北路", "北京市朝阳区建国路", "广州市天河区体育西路",
                 "杭州市西湖区文三路", "南京市鼓楼区中山北路", "武汉市武昌区中南路"),
        "domain": ("example.cn", "example.com", "mail.example.cn"),
        # GB/T 2260 district codes that python-stdnum knows for every birth year drawn here,
        # so the IDs pass its birth-place check (many codes only exist since the 1980s)
        "id_area": ("110101", "110105", "110108", "120101", "310104"),
        "mobile": ("130", "133", "135", "136", "138", "139", "150", "152", "158", "159", "180",
                   "186", "187", "189"),
    },
}
