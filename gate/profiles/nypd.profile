# facesearch profile: NYPD Patrol Guide procedure 212-129, Facial Recognition Technology (03/12/20)
# Sections: Scope, Definitions, Procedure steps 1-16, Additional Data.
# Every policy-derived value cites its section on the comment line above it.

name = nypd
title = NYPD Patrol Guide procedure 212-129
source = policies/002_a1601dbc08f5dde8.txt

# Definitions, Authorized uses (the "only" authorized uses): (a) committed, committing or
# about to commit a crime; (b) missing person, crime victim, or witness; (c) deceased;
# (d) incapacitated or otherwise unable to identify themselves; (e) under arrest without
# valid ID, not forthcoming, or using someone else's/false ID; (f) imminent threat to
# health or public safety
authorized_use = suspect
authorized_use = missing-person
authorized_use = victim
authorized_use = witness
authorized_use = deceased
authorized_use = incapacitated
authorized_use = arrestee-without-valid-id
authorized_use = imminent-threat

# Definitions, Authorized uses: "must only be used for legitimate law enforcement purposes";
# the procedure names no other prohibited purpose (Additional Data bars searching outside
# the arrest/parole photo repository, which the gallery rule G20 already enforces)
prohibited = personal-use

# G6: the same purposes stated in other words (prohibited_terms = purpose: phrase | ...).
# Each list starts from the policy's own wording and adds plain-English paraphrases a
# requester might type; a trailing * matches any ending of its last word.  Words that also
# describe victims, scenes or dates in ordinary violent-crime reports (church, march, race,
# party, date, Visa, a bare "crowd") appear only inside phrases that tie them to the people
# to be identified, or to a first-person request.

# Definitions, Authorized uses "must only be used for legitimate law enforcement purposes":
# personal, private or favour queries and passing results outside law enforcement
prohibited_terms = personal-use: personal reason* | personal matter* | personal interest | personal curiosity | personal business | personal favor | personal favour | personal issue* | personal beef | personal grudge | personal vendetta | private matter* | private reason* | for personal | for myself | for my own | non official | nonofficial | unofficial* | not official | not for a case | not for work | not work related | not related to a case | not related to any case | unrelated to a case | unrelated to any case | no case | no law enforcement purpose | not a law enforcement purpose | non law enforcement | off the books | off the record | just curious | curious | curiosity | for fun | for a laugh | for laughs | for kicks | as a joke | as a prank | for a friend | a friend asked | my friend asked | friend of mine | friends of mine | favor for | favour for | as a favor | as a favour | do me a favor | do me a favour | my ex | my ex's | my ex wife | my ex husband | my ex girlfriend | my ex boyfriend | my ex partner | my wife | my husband | my girlfriend | my boyfriend | my fiance* | my spouse | my daughter* | my son | my sons | my kid* | my child* | my neighbor* | my neighbour* | my landlord* | my tenant* | my roommate* | my room mate* | my flatmate* | my coworker* | my co worker* | my colleague* | my boss | my family | my relative* | my cousin* | my brother* | my sister* | my mother* | my mom | my father* | my dad | my in law* | my aunt | my uncle | my date | my crush | my friend* | who my | seeing my | dating my | cheating on me | someone i met | somebody i met | a girl i met | a guy i met | a woman i met | a man i met | person i met | i met online | girl i saw | guy i saw | woman i saw | man i saw | cute girl | cute guy | hot girl | pretty girl | pretty woman | attractive | good looking | famous person | cut me off | honked at me | flipped me off | parked in my | parks in my | share it with | share the results with | sharing the results | send it to my | send the results to | pass it along to | pass it on to | passing information | unauthorized personnel | unauthorized person* | for a civilian | for a reporter | for a journalist | to a reporter | to a journalist | private investigator* | private detective* | private eye | bail bond* | bondsman | bounty hunter* | for my lawyer | for an insurance company | insurance investigator* | for my employer | moonlight* | tenant screening | employment screening | pre employment | job applicant* | hiring decision* | copy of the results | copy the results | copying the results | for my side job | ask her out | ask him out | asking her out | asking him out | go out with her | go out with him | hook up with

# Procedure step 1 (image(s)/video(s) may be submitted; 1a include the video player) and
# step 5 (the examiner selects the probe image): stills taken from video are allowed
forbid_recorded_video = no

# Procedure step 9 "Submit possible match candidate for peer review": one peer beyond the
# proposing RTCC-FIS investigator
review.examiners = 1
# Procedure step 10 RTCC-FIS supervisor final review and approval; Definitions (possible
# match candidate includes supervisory review)
review.supervisors = 1
# not stated in the policy; default (sign-offs are still recorded with a note per G14)
review.written_signoff = no

# composed from the policy's own words: Definitions (Possible match candidate) and
# Procedure step 13a (the notification the FIS Possible Match Report must include)
disclaimer = A possible match candidate shall be treated as an investigative lead only. Determination of a possible match candidate alone does not constitute probable cause to effect an arrest, or obtain an arrest or search warrant, and further investigation is needed to establish probable cause.

# not stated in the policy; default (step 14 retains all search records in the ECMS case
# file, no period; 365 = FBI CJIS Security Policy 5.4.7 one-year minimum for audit records)
retention.audit_days = 365
# not stated in the policy; default (step 14 uploads search records to the ECMS case file,
# no period given)
retention.probe_days = 365
# Procedure steps 14 (retain all records of searches) and 16 (continue investigation and
# resubmit after no match): the probe is kept
retention.purge_probe_on_no_candidate = no

# Additional Data: outside agency requests go to RTCC-FIS on an "FIS Outside Agency Form"
# with a copy of the agency's complaint report; step 13b returns the report to them
outside_agency.allowed = yes
# not stated in the policy; default (only the form and complaint report are required)
outside_agency.require_mou = no
# not stated in the policy; default (the disclaimer travels on the Possible Match Report,
# step 13a-b; no acknowledgement by the requester is required)
outside_agency.require_disclaimer_ack = no

# not stated in the policy; default
reports.weekly = no
# Additional Data: RTCC-FIS and Detective Squad supervisors evaluate and monitor compliance
# (P.G. 219-14); no frequency stated, monthly is the engine's audit cycle
reports.monthly_audit = yes
# not stated in the policy; default
reports.annual = no
# audit.sample_percent omitted: no sampling rate stated

# not stated in the policy; default
session.hours = 8
# not stated in the policy; default
login.max_failures = 5
# not stated in the policy; default
login.lockout_minutes = 15
# not stated in the policy; default
login.failure_delay_ms = 1000
# not stated in the policy; default
password.min_length = 12

# not stated in the policy; default (step 5a-b: an unsuitable image gets an FIS Image
# Rejection Report and more images may be submitted, but no numeric minimums are given)
quality.min_face_px = 40
# not stated in the policy; the engine's defaults, in its units: eye
# distance in pixels; head roll and yaw in degrees, estimated from the
# landmarks; sharpness as the variance of the Laplacian over the face box;
# brightness as its mean grey level and contrast as their standard deviation
quality.min_eye_px = 20
quality.max_roll_deg = 30
quality.max_yaw_deg = 45
quality.min_sharpness = 20
quality.min_brightness = 40
quality.max_brightness = 220
quality.min_contrast = 15
