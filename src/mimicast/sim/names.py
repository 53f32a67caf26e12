"""The words simulated mail is made of: people's names, organisations, subjects and bodies,
file names, browsers. Plain tuples; the generators pick from them with a seeded random."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Alan", "Alice", "Amir", "Ana", "Ben", "Bianca", "Carla", "Chen", "Chloe", "Dan",
    "Dara", "David", "Elena", "Emma", "Farah", "Felix", "Grace", "Hana", "Henry", "Ines", "Ivan",
    "Jack", "Jade", "James", "Kai", "Kenji", "Laura", "Leo", "Lina", "Lucas", "Maria", "Mateo",
    "Maya", "Mia", "Nadia", "Noah", "Olga", "Omar", "Paul", "Priya", "Quinn", "Rafael", "Rosa",
    "Ryan", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe")
LAST_NAMES = (
    "Abbott", "Adler", "Baker", "Banerjee", "Becker", "Brooks", "Castro", "Chen", "Clarke",
    "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Gupta", "Hall", "Hansen", "Ito", "Jensen",
    "Kahn", "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Meyer", "Moreau", "Nakamura",
    "Novak", "Okafor", "Olsen", "Park", "Patel", "Petrov", "Quinn", "Reyes", "Rossi", "Sato",
    "Schmidt", "Silva", "Singh", "Suzuki", "Tanaka", "Turner", "Varga", "Wagner", "Walsh",
    "Weber", "Wright", "Young", "Zhang")

ORG_FIRST = (
    "Northwind", "Bluefin", "Cedar", "Harbor", "Summit", "Lumen", "Granite", "Maple", "Orbit",
    "Pioneer", "Quartz", "Riverside", "Silverline", "Tidewater", "Vertex", "Willow", "Ashford",
    "Beacon", "Copper", "Driftwood", "Evergreen", "Foxglove", "Highland", "Ironwood", "Juniper",
    "Keystone", "Lakeside", "Meridian", "Nimbus", "Oakridge", "Redwood", "Sable", "Trident")
ORG_SECOND = (
    "Traders", "Logistics", "Partners", "Labs", "Foods", "Consulting", "Systems", "Supplies",
    "Analytics", "Health", "Legal", "Energy", "Media", "Freight", "Capital", "Design",
    "Engineering", "Software", "Retail", "Insurance")
# Reserved names (RFC 2606/6761): no real organisation appears.
TLDS = ("example.com", "example.net", "example.org", "test")

NEWSLETTER_BRANDS = (
    "brightpath", "dailybrief", "techdigest", "marketpulse", "greenleaf", "cityevents",
    "travelwise", "officeplus", "learnhub", "webinar-central", "tradeshow", "cloudnotes")
NEWSLETTER_LOCALS = ("news", "newsletter", "offers", "noreply", "updates", "events")
NEWSLETTER_SUBJECTS = (
    "This week in {topic}", "Your {topic} digest", "{topic}: what changed this month",
    "Invitation: {topic} webinar", "New in {topic}: three things to try",
    "Last chance: {topic} early-bird registration, limited time")
TOPICS = (
    "cloud security", "supply chain", "data protection", "remote work", "procurement",
    "accounting", "logistics", "customer success", "compliance", "analytics", "marketing",
    "energy prices", "hiring")

# Free-mail providers senders write from (rules.FREE_MAIL: the `free_mail_domains` target).
FREE_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com",
                     "proton.me", "gmx.com")

BUSINESS_SUBJECTS = (
    "Invoice {n}", "Purchase order {n}", "Quote for {topic}", "Meeting notes: {topic}",
    "Agenda for Thursday", "Contract renewal", "Updated price list", "Shipping schedule",
    "Question about order {n}", "Project kickoff: {topic}", "Q{q} review",
    "Timesheet for week {w}", "Draft proposal: {topic}", "Follow-up on our call",
    "Delivery confirmation {n}", "Statement of work", "Onboarding checklist",
    "Travel plans for the visit", "Request for information: {topic}", "Holiday schedule",
    "Confidential: {topic} figures")
BUSINESS_TEXTS = (
    "Hi, please find the details below. Let me know if anything is missing.",
    "Thanks for your time today. As discussed, here is a summary of the next steps.",
    "Could you confirm the figures before Friday? Happy to go through them on a call.",
    "Attached is the latest version with your comments addressed.",
    "We are on track for the delivery date. I will send tracking details once shipped.",
    "Can we move our meeting to next week? Tuesday or Wednesday works for me.",
    "Here is the document we talked about, with the changes highlighted.",
    "Please review and sign at your convenience. Thank you.",
    "The card on file for the renewal is 4111 1111 1111 1111; please charge the deposit.")
INTERNAL_SUBJECTS = (
    "Team lunch on Friday", "Weekly status", "Sprint planning notes", "Budget {year}",
    "Office move: what to expect", "Reminder: expense reports", "Welcome our new colleague",
    "IT maintenance this weekend", "All-hands slides", "Quick question", "Roadmap review",
    "Training sessions next month", "Parking update", "Customer feedback summary")
INTERNAL_TEXTS = (
    "Sharing the notes from this morning; shout if I missed anything.",
    "Quick reminder for everyone, thanks.", "Slides are on the intranet, link below.",
    "Can you take a look when you have a minute?", "Great work on this, everyone.")
FREEMAIL_SUBJECTS = (
    "Job application: {topic}", "Question about your services", "Hello from the conference",
    "Photos from the event", "Volunteer day", "Inquiry", "Feedback on my order {n}",
    "Sending from my personal address")
FREEMAIL_TEXTS = (
    "Hi there, I hope this finds you well. I had a question about your services.",
    "Please see my CV attached. I would welcome the chance to talk.",
    "Great to meet you last week. Here are the photos I promised.")

# Spam: SPAM_WORDS (services/mail/world.py) are what the engine scores; these carry them.
SPAM_SUBJECTS = (
    "You are a WINNER - claim your prize", "Lottery results: act now", "Crypto offer inside",
    "Free money waiting for you", "100% free trial - limited time", "Bitcoin doubled in 24h",
    "Cheap viagra online", "Click here to unsubscribe from debt", "Congratulations, winner!")
SPAM_TEXTS = (
    "Act now! This limited time offer will not last. Click here to claim.",
    "You have been selected as our lucky winner. Free money is waiting.",
    "Our crypto offer turns 100 dollars into 10000. Wire transfer accepted.",
    "Urgent: your bitcoin wallet has unclaimed funds. Click here.")
GREY_SUBJECTS = ("Special offer for {topic} teams", "Save on {topic} this month",
                 "Partnership opportunity", "Boost your {topic} results")
GREY_TEXTS = ("We help companies like yours grow. Book a demo, limited time pricing.",
              "Reply to this email to get our free guide. Act now to secure your spot.")
PHISHING_SUBJECTS = (
    "Action required: verify your account", "Your password expires today",
    "Mailbox quota exceeded", "Unusual sign-in activity", "Document shared with you",
    "Payment failed: update your details", "Parcel on hold: confirm delivery")
PHISHING_TEXTS = (
    "Your mailbox will be suspended. Verify your account within 24 hours.",
    "Your password expires today. Click here to keep your current password.",
    "A document has been shared with you. Sign in to view it.",
    "We could not deliver your parcel. Confirm your address and pay the fee.")
MALWARE_SUBJECTS = ("Invoice {n} overdue", "Scanned document", "Payment advice {n}",
                    "Shipping documents", "Remittance advice", "Order {n} confirmation")
MALWARE_TEXTS = ("Please see the attached document and confirm receipt.",
                 "Kindly find the attached invoice for payment.")
IMPERSONATION_SUBJECTS = ("Urgent wire transfer", "Are you at your desk?", "Quick favour",
                          "Confidential: acquisition payment", "Change of bank details",
                          "Gift cards for the team")
IMPERSONATION_TEXTS = (
    "I need you to process a wire transfer today. Keep this confidential, I am in meetings.",
    "Are you available? I need a quick favour, reply to this email only.",
    "Please update the supplier's bank details before the next payment run.")
SPOOF_SUBJECTS = ("Payroll update", "Invoice approval", "Shared file", "Voicemail received")
MISADDRESSED_SUBJECTS = ("Meeting next week", "Proposal", "Following up", "Introduction")

PHISHING_SERVICES = ("account", "secure", "mailbox", "docs", "billing", "support", "signin",
                     "wallet", "parcel", "helpdesk")
PHISHING_WORDS = ("verify", "team", "portal", "center", "update", "notice", "alert", "online")
SPAM_DOMAIN_WORDS = ("best", "deal", "promo", "lucky", "prize", "cash", "offer", "win",
                     "bonus", "mega", "super", "top")

# Documents an organisation passes around: (template, content type).
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
CLEAN_FILES = (
    ("Invoice {n}.pdf", "application/pdf"), ("Quote {n}.pdf", "application/pdf"),
    ("Contract {org}.docx", _DOCX), ("Meeting notes {n}.docx", _DOCX),
    ("Budget {year} v{v}.xlsx", _XLSX), ("Price list {year}.xlsx", _XLSX),
    ("Presentation {org}.pptx", _PPTX), ("Photo {n}.jpg", "image/jpeg"),
    ("Diagram {n}.png", "image/png"), ("Report Q{q} {year}.pdf", "application/pdf"),
    ("Data export {n}.csv", "text/csv"), ("Logo {org}.png", "image/png"))
MALICIOUS_FILES = (
    ("Invoice_{n}.zip", "application/zip"),
    ("Scan_{n}.docm", "application/vnd.ms-word.document.macroEnabled.12"),
    ("Payment_advice_{n}.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ("Shipping_documents_{n}.html", "text/html"),
    ("Remittance_{n}.iso", "application/x-iso9660-image"),
    ("Order_{n}.js", "application/javascript"))

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)")
