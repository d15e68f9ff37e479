# facesearch profile: Miami Police Department, Facial Recognition Technology (Departmental Order ch. 4)
# Every policy-derived value cites its section (4.x.y) on the comment line above it.

name = miami
title = Miami Police Department, Facial Recognition Technology (ch. 4)
source = policies/001_bda67cbd6f6aec1e.txt

# 4.5.1 "shall only be used for the identification of": (a) potential suspects, witnesses,
# victims in a criminal investigation; (b) principal officers, witnesses or involved persons
# in an Internal Affairs investigation; (c) persons lacking capacity or otherwise unable to
# identify themselves; (d) unidentified deceased persons; (e) lawfully detained persons
# refusing to identify themselves or whose identity cannot be established.
# (4.1's "reducing an imminent threat" is purpose prose, not in the 4.5.1 list: not included)
authorized_use = suspect
authorized_use = witness
authorized_use = victim
authorized_use = internal-affairs
authorized_use = incapacitated
authorized_use = deceased
authorized_use = detained-unidentified

# 4.5.2(a) personal use / queries unrelated to duties / passing to unauthorized personnel;
# (b) harassing or intimidating; (c) surveillance based solely on religious, political or
# other constitutionally protected activities, or race, ethnicity, gender, sexual
# orientation, sexual identity or other protected class; (d) monitoring persons in
# real time; (e) any use violating law or agency policy
# The slugs' own words are phrases too: (b) and (e) are named so that a
# harassment or an unlawful-use-of-a-firearm case can still be filed.
prohibited = personal-use
prohibited = harass-or-intimidate
prohibited = protected-views
prohibited = protected-class
prohibited = real-time-monitoring
prohibited = violate-law-or-policy

# G6: the same purposes stated in other words (prohibited_terms = purpose: phrase | ...).
# Each list starts from the policy's own wording and adds plain-English paraphrases a
# requester might type; a trailing * matches any ending of its last word.  Words that also
# describe victims, scenes or dates in ordinary violent-crime reports (church, march, race,
# party, date, Visa, a bare "crowd") appear only inside phrases that tie them to the people
# to be identified, or to a first-person request.

# 4.5.2(a) "Personal use, queries not related to legitimate agency duties, sharing, copying,
# or the passing of information to unauthorized personnel"
prohibited_terms = personal-use: personal reason* | personal matter* | personal interest | personal curiosity | personal business | personal favor | personal favour | personal issue* | personal beef | personal grudge | personal vendetta | private matter* | private reason* | for personal | for myself | for my own | non official | nonofficial | unofficial* | not official | not for a case | not for work | not work related | not related to a case | not related to any case | unrelated to a case | unrelated to any case | no case | no law enforcement purpose | not a law enforcement purpose | non law enforcement | off the books | off the record | just curious | curious | curiosity | for fun | for a laugh | for laughs | for kicks | as a joke | as a prank | for a friend | a friend asked | my friend asked | friend of mine | friends of mine | favor for | favour for | as a favor | as a favour | do me a favor | do me a favour | my ex | my ex's | my ex wife | my ex husband | my ex girlfriend | my ex boyfriend | my ex partner | my wife | my husband | my girlfriend | my boyfriend | my fiance* | my spouse | my daughter* | my son | my sons | my kid* | my child* | my neighbor* | my neighbour* | my landlord* | my tenant* | my roommate* | my room mate* | my flatmate* | my coworker* | my co worker* | my colleague* | my boss | my family | my relative* | my cousin* | my brother* | my sister* | my mother* | my mom | my father* | my dad | my in law* | my aunt | my uncle | my date | my crush | my friend* | who my | seeing my | dating my | cheating on me | someone i met | somebody i met | a girl i met | a guy i met | a woman i met | a man i met | person i met | i met online | girl i saw | guy i saw | woman i saw | man i saw | cute girl | cute guy | hot girl | pretty girl | pretty woman | attractive | good looking | famous person | cut me off | honked at me | flipped me off | parked in my | parks in my | share it with | share the results with | sharing the results | send it to my | send the results to | pass it along to | pass it on to | passing information | unauthorized personnel | unauthorized person* | for a civilian | for a reporter | for a journalist | to a reporter | to a journalist | private investigator* | private detective* | private eye | bail bond* | bondsman | bounty hunter* | for my lawyer | for an insurance company | insurance investigator* | for my employer | moonlight* | tenant screening | employment screening | pre employment | job applicant* | hiring decision* | copy of the results | copy the results | copying the results | for my side job | ask her out | ask him out | asking her out | asking him out | go out with her | go out with him | hook up with

# 4.5.2(b) "Harassing and/or intimidating any individual or group": in a requester's own
# words, or retaliation against people who complained about or filmed officers
prohibited_terms = harass-or-intimidate: we can harass | i can harass | we can intimidate | i can intimidate | we can scare | i can scare | we can pressure | lean on him | lean on her | lean on them | rattle him | rattle her | rattle them | shake him up | shake her up | make an example of | let him know we | let her know we | let them know we | know we are watching | know we're watching | put the heat on | turn up the heat on | filed a complaint against officer* | filed a complaint against our | filed a complaint against me | complained about our officer* | complained about me | complaint against the officer | sued the department | suing the department | sued the city | lawsuit against the department | lawsuit against the city | filmed officer* | filming officer* | recorded officer* | recording officer* | filmed the officer* | filming the officer* | filmed our officer* | cop watch* | copwatch* | police accountability | disrespected officer* | disrespected the officer* | disrespected me | bad mouth* | badmouth* | we can embarrass | i can embarrass | we can humiliate | we can teach him | we can teach her | we can get back at | i can get back at | get back at me | get back at us | get even with me | we can show up at | i can show up at | we can pay him a visit | we can put pressure on | i can put pressure on | scare him off for us | mouthed off to officer* | mouthed off to me | talked back to officer* | talked back to me | gave officers the finger

# 4.5.2(c) "religious, political, or other constitutionally protected activities": views,
# worship, and the protests, rallies and meetings where they are expressed
prohibited_terms = protected-views: religious view* | religious belief* | religious affiliation* | religious activit* | religious practice* | religious group* | religious organi* | religious gathering* | religious service* | religious meeting* | religious leader* | religious community | his religion | her religion | their religion | what religion | which religion | faith community | faith group* | place of worship | places of worship | house of worship | houses of worship | worshipper* | worshiper* | who worship* | worship service* | who pray* | praying at | prays at | pray at | friday prayer* | sunday service* | sunday mass | bible study | prayer meeting* | prayer group* | church service* | church member* | church goer* | churchgoer* | members of the church | members of the mosque | members of the synagogue | members of the congregation | congregant* | attends the mosque | attended the mosque | attending the mosque | attend the mosque | goes to the mosque | go to the mosque | going to the mosque | at the mosque | into the mosque | mosque goer* | mosque attendee* | at the synagogue | into the synagogue | goes to church | go to church | muslims | muslim community | jews | jewish community | christians | catholics | hindus | sikhs | his faith | her faith | their faith | political view* | political belief* | political opinion* | political affiliation* | political activit* | political party | political parties | political group* | political organi* | political meeting* | political event* | political speech | political sign* | his politics | her politics | their politics | party affiliation | party membership | voted for | votes for | who he votes | who she votes | who they vote | campaign sign* | campaign event* | campaign rally | supporters of | trump supporter* | biden supporter* | democrats | republicans | democratic party | republican party | socialist* | communist* | anarchist* | antifa | maga | black lives matter | blm | social view* | social activit* | social cause* | activist* | activism | advocacy group* | protest organizer* | critical of the police | critical of the department | his opinions | her opinions | their opinions | free speech | freedom of speech | freedom of religion | constitutionally protected | first amendment | 1st amendment | people praying | men praying | women praying | those praying | praying outside | praying in front | protest* | demonstration* | demonstrator* | rally | rallies | protest march* | peace march* | the march on | the march against | march against | marchers | picket line* | picketing | picketers | holding signs | holding a sign | carrying signs | carrying a sign | placard* | candlelight vigil* | peaceful assembl* | lawful assembl* | public assembl* | lawful event* | council meeting* | school board meeting* | public hearing* | community meeting* | polling place* | polling station* | at the polls | voters | parade goer* | paradegoer* | pride parade* | pride march* | pride event* | festival goer* | festivalgoer* | concert goer* | concertgoer* | sit in protest | boycott* | strikers | on strike | walkout* | everyone who attended | people who attended | took part in the protest | participated in the protest | identify the attendees | identify attendees | list of attendees | town hall meeting*

# 4.5.2(c) "race, ethnicity, gender, sexual orientation, sexual identity, or other
# constitutionally protected class membership" (4.5.2 names no immigration-status ban, so
# no immigration phrasings are added)
prohibited_terms = protected-class: because of his race | because of her race | because of their race | because of race | based on race | based on his race | based on her race | based on their race | his race | her race | their race | racial profil* | racially profil* | race based | because he is black | because she is black | because they are black | because he's black | because she's black | because he is hispanic | because she is hispanic | because he is latino | because she is latina | because he is mexican | because he is arab | because he is asian | because she is asian | because he is muslim | because she is muslim | because he is jewish | because she is jewish | because he is gay | because she is gay | because they are gay | because he is trans | because she is trans | looks foreign | foreign looking | looks mexican | looks arab* | looks middle eastern | looks muslim | looks gay | doesn't belong in this neighborhood | does not belong in this neighborhood | doesn't belong here | does not belong here | out of place in this neighborhood | his ethnicity | her ethnicity | their ethnicity | based on ethnicity | because of ethnicity | ethnic background* | ethnic group* | ethnic profil* | ethnic origin* | color of his skin | colour of his skin | color of her skin | colour of her skin | color of their skin | colour of their skin | his skin colo* | her skin colo* | their skin colo* | because of his skin | because of her skin | national origin | place of origin | places of origin | country of origin | where he is from | where she is from | where they are from | where he's from | where she's from | his nationality | her nationality | their nationality | because of his gender | because of her gender | because of gender | based on gender | based on sex | because of her sex | gender identit* | gender expression | gender identification | sexual identity | sexual orientation | transgender* | trans woman | trans women | trans man | trans men | trans person | trans people | transsexual* | nonbinary | non binary | is gay | are gay | is lesbian | is a lesbian | lesbians | gay men | gay people | gay couple* | same sex couple* | bisexual* | homosexual* | queer | lgbt* | drag queen* | drag show* | his disability | her disability | their disability | because of a disability | based on disability | with disabilities | disabled people | disabled person* | because he is disabled | because she is disabled | because of his age | because of her age | because of their age | based on age | because of age | protected class* | protected characteristic* | protected classification* | protected status | gay bar* | gay club* | country she is from | country he is from | country they are from | country she's from | country he's from | which country

# 4.5.2(d) "monitor persons in real-time": feeds, alerts, following someone's movements
prohibited_terms = real-time-monitoring: in real time | real time video* | real time feed* | real time surveillance | real time camera* | real time alert* | real time identification | real time face | real time facial | real time tracking | real time scanning | realtime | live stream* | livestream* | live feed* | live video* | live camera* | live cctv | live footage | live view | live monitoring | monitor live | watching live | cctv feed* | camera feed* | video feed* | security feed* | on the feed | webcam* | rtsp | as it happens | as they happen | as it is happening | while it is happening | as he walks | as she walks | as they walk | instant alert* | alert us when | alert me when | notify us when | ping us when | flag him when | flag her when | track his movements | track her movements | track their movements | follow his movements | follow her movements | monitor his movements | monitor her movements | monitor their movements | keep tabs on | keep an eye on him | keep an eye on her | keep an eye on them | continuous monitoring | continuously monitor* | constant monitoring | constantly monitor* | ongoing monitoring | monitor the camera* | monitoring the camera* | watch the camera* | watching the camera* | right now on camera | currently on camera | when he appears on camera | when she appears on camera | when he shows up on camera | when she shows up on camera | if he shows up on camera | whenever he appears | watchlist alert* | watch list alert* | to a watch list | to the watch list | to a watchlist | to the watchlist | 24 7 monitoring | round the clock monitoring | around the clock monitoring

# 4.5.2(e) "any other purpose, access, use, disclosure, or retention that would violate
# applicable local, state, or federal law or agency policy": unlogged or disguised queries,
# other databases, commercial uses
prohibited_terms = violate-law-or-policy: against the law | violate the law | violates the law | violating the law | against policy | against department policy | against agency policy | violate policy | violates policy | unauthorized search* | unauthorized query | unauthorized queries | unauthorized fr | unauthorized facial | do not log | don't log | dont log | not logged | without logging | no log | delete the log | don't record this | do not record this | keep it quiet | keep this quiet | keep it between us | between you and me | don't tell | do not tell | dont tell | no paperwork | skip the paperwork | fake case* | made up case* | fake incident* | false case* | someone else's case | borrow a case number | any case number | driver's license photos | driver license photos | dmv photo* | dmv database | license database | scraping social media | scraped from social media | sell the results | sell the information | sell the data | commercial purpose* | debt collect* | collect a debt | repossess* | repo man | credit check*

# 4.3.1 a probe is "a still shot/image"; no ban on stills taken from recorded video
# (4.5.2d bans only real-time monitoring)
forbid_recorded_video = no

# not stated in the policy; default (no second-examiner review: 4.5.3.2 gives all results
# to the requester and 4.3.4.1 puts corroboration on the lead investigator)
review.examiners = 0
# not stated in the policy; default (4.5.5 supervisors audit monthly, they do not approve leads)
review.supervisors = 0
# not stated in the policy; default
review.written_signoff = no

# paraphrase, the policy gives no disclaimer text: 4.3.3 (potential investigative lead based
# on algorithmic similarity), 4.3.4 (not probable cause for arrest), 4.3.4.1 (follow-up)
disclaimer = This facial recognition search result is a potential investigative lead only, based on algorithmic similarity; it is not an identification, a positive search result alone does not constitute probable cause for arrest, and the lead must be corroborated by further investigation.

# not stated in the policy; default (4.5.3.3 search log and 4.5.5 monthly audit, no period;
# 365 = FBI CJIS Security Policy 5.4.7 one-year minimum for audit records)
retention.audit_days = 365
# not stated in the policy; default (4.5.3.2 results kept in the investigator's case file,
# no period given)
retention.probe_days = 365
# 4.5.3.4 the probe may be searched again if no identification is made, so it is kept
retention.purge_probe_on_no_candidate = no

# not stated in the policy; default (4.2/4.5 use limited to RTCC personnel and those the
# Chief authorizes; 4.5.2a bars passing information to unauthorized personnel)
outside_agency.allowed = no
# not stated in the policy; default (safeguard if an administrator enables outside requests)
outside_agency.require_mou = yes
# not stated in the policy; default (safeguard if an administrator enables outside requests)
outside_agency.require_disclaimer_ack = yes

# not stated in the policy; default
reports.weekly = no
# 4.5.5 RTCC supervisors conduct a monthly audit of members' compliance
reports.monthly_audit = yes
# not stated in the policy; default
reports.annual = no
# audit.sample_percent omitted: 4.5.5 states no sampling rate

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

# not stated in the policy; default (4.3.4.1 weighs probe quality; no numeric minimums)
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
