# facesearch profile: Los Angeles County Regional Identification System (LACRIS)
# Facial Recognition Policy Template. Sections are cited by their headings ("XXX - ...")
# and the appended request form / Manual Search Report templates.

name = lacris
title = Los Angeles County LACRIS policy template
source = policies/004_e4f35f60151df7c4.txt

# Purpose and Scope: reasonable suspicion that use will provide information relevant to
# (1) an active investigation, (2) an imminent threat to health or safety ("at-risk"),
# (3) identification of deceased persons, (4) persons unable to identify themselves
authorized_use = active-investigation
authorized_use = imminent-threat
authorized_use = deceased
authorized_use = incapacitated

# Prohibitive Uses 1 surveillance of the public (except a person under active criminal
# investigation or an imminent threat to life), 2 live stream video (except imminent threat
# to life or at-risk individuals; the engine takes no streams at all, G8), 3 predictive
# analysis. First Amendment Activity 1 religious, political or social views; 2 noncriminal
# organization; 3 race, ethnicity, citizenship, origin, age, disability, gender, gender
# identification, sexual orientation or other protected classification
prohibited = surveillance-of-public
prohibited = live-stream
prohibited = predictive-analysis
prohibited = protected-views
prohibited = noncriminal-organization
prohibited = protected-class

# G6: the same purposes stated in other words (prohibited_terms = purpose: phrase | ...).
# Each list starts from the policy's own wording and adds plain-English paraphrases a
# requester might type; a trailing * matches any ending of its last word.  Words that also
# describe victims, scenes or dates in ordinary violent-crime reports (church, march, race,
# party, date, Visa, a bare "crowd") appear only inside phrases that tie them to the people
# to be identified, or to a first-person request.

# Prohibitive Uses 1 "actively surveil members of the public through any camera or video device"
# (its exception, a person under active investigation, is a request about that person)
prohibited_terms = surveillance-of-public: surveil the public | surveil members of the public | surveillance of the public | surveil everyone | surveil the crowd | surveil the area | surveil the neighborhood | surveil the neighbourhood | public surveillance | mass surveillance | general surveillance | blanket surveillance | dragnet | fishing expedition | monitor the public | monitor the crowd | monitoring the crowd | monitor crowds | monitor the area | monitor the neighborhood | monitor the neighbourhood | monitor the block | monitor everyone | monitoring everyone | monitor people | monitoring people | crowd monitoring | crowd surveillance | crowd scan* | scan the crowd | scanning the crowd | scan crowds | scan everyone | scan everybody | scan faces | scanning faces | scan all faces | scan every face | faces in the crowd | everyone in the crowd | identify the crowd | identify people in the crowd | watch the public | watching the public | watch the crowd | watching the crowd | watch everyone | watching everyone | keep an eye on people | keep an eye on everyone | keep an eye on the public | keep an eye on the crowd | keep an eye on the neighborhood | keep an eye on the block | keep an eye on who | keep tabs on people | keep tabs on everyone | keep tabs on who | identify everyone | identify everybody | identify all the people | identify all people | identify all persons | identify all faces | identify every face | identify every person | identify members of the public | identify passers by | identify passersby | identify pedestrians | identify random | run everyone | run everybody | run every face | run all faces | run all the faces | run random | scan random | random faces | random members of the public | everyone who walks | everyone who walked | everyone walking | everyone who enters | everyone who entered | everyone entering | everyone who comes | everyone coming in | everyone who goes | everyone going in | everyone who passes | everyone passing | who comes and goes | comings and goings | who goes in and out | anyone suspicious | anyone who looks suspicious | suspicious looking people | monitor the park | monitor the entrance | monitor the street | monitor the corner | monitor the intersection | monitor the plaza | monitor the station | monitor the mall | monitor the square

# Prohibitive Uses 2 "live stream video"
prohibited_terms = live-stream: live stream* | livestream* | live feed* | live video* | live camera* | live cam | live cams | live footage | live cctv | live view | live monitoring | monitor live | watching live | broadcast live | live broadcast* | facebook live | instagram live | streaming video* | video stream* | camera stream* | streamed live | rtsp | webcam* | cctv feed* | camera feed* | video feed* | security feed* | on the feed | in real time | real time video* | real time feed* | real time surveillance | real time camera* | real time alert* | real time identification | real time face | real time facial | real time tracking | real time scanning | real time monitoring | realtime | as it happens | as they happen | as it is happening | while it is happening | as they walk | as he walks | as she walks | as people walk | as they pass | as they enter | instant alert* | alert us when | alert me when | notify us when | ping us when | flag him when | flag her when | flag anyone | project green light | when he appears on camera | when she appears on camera | when he shows up on camera | when she shows up on camera | if he shows up on camera | whenever he appears

# Prohibitive Uses 3 "predictive analysis": forecasting or scoring who will offend
prohibited_terms = predictive-analysis: forecast* | likely to offend | likely to reoffend | likely to re offend | likely to commit | before it happens | future crime* | future offen* | future criminal* | future violence | future violent | future behavior | future behaviour | future risk | potential future | risk score* | risk scoring | threat score* | risk assessment* | risk profil* | risk rating* | risk level* | high risk individual* | at risk of offending | at risk of reoffending | at risk of committing | potential offender* | potential criminal* | likely offender* | likely criminal* | pre crime | precrime | pattern of life | patterns of life | heat map* | who will offend | who is likely to | who are likely to | looks like a criminal | one day commit | someday commit | eventually commit | flag potential | predict | predicts | predicting | prediction*

# First Amendment Activity 1 "religious, political, or social views or activities": views,
# worship, and the protests, rallies and meetings where they are expressed
prohibited_terms = protected-views: religious view* | religious belief* | religious affiliation* | religious activit* | religious practice* | religious group* | religious organi* | religious gathering* | religious service* | religious meeting* | religious leader* | religious community | his religion | her religion | their religion | what religion | which religion | faith community | faith group* | place of worship | places of worship | house of worship | houses of worship | worshipper* | worshiper* | who worship* | worship service* | who pray* | praying at | prays at | pray at | friday prayer* | sunday service* | sunday mass | bible study | prayer meeting* | prayer group* | church service* | church member* | church goer* | churchgoer* | members of the church | members of the mosque | members of the synagogue | members of the congregation | congregant* | attends the mosque | attended the mosque | attending the mosque | attend the mosque | goes to the mosque | go to the mosque | going to the mosque | at the mosque | into the mosque | mosque goer* | mosque attendee* | at the synagogue | into the synagogue | goes to church | go to church | muslims | muslim community | jews | jewish community | christians | catholics | hindus | sikhs | his faith | her faith | their faith | political view* | political belief* | political opinion* | political affiliation* | political activit* | political party | political parties | political group* | political organi* | political meeting* | political event* | political speech | political sign* | his politics | her politics | their politics | party affiliation | party membership | voted for | votes for | who he votes | who she votes | who they vote | campaign sign* | campaign event* | campaign rally | supporters of | trump supporter* | biden supporter* | democrats | republicans | democratic party | republican party | socialist* | communist* | anarchist* | antifa | maga | black lives matter | blm | social view* | social activit* | social cause* | activist* | activism | advocacy group* | protest organizer* | critical of the police | critical of the department | his opinions | her opinions | their opinions | free speech | freedom of speech | freedom of religion | constitutionally protected | first amendment | 1st amendment | people praying | men praying | women praying | those praying | praying outside | praying in front | protest* | demonstration* | demonstrator* | rally | rallies | protest march* | peace march* | the march on | the march against | march against | marchers | picket line* | picketing | picketers | holding signs | holding a sign | carrying signs | carrying a sign | placard* | candlelight vigil* | peaceful assembl* | lawful assembl* | public assembl* | lawful event* | council meeting* | school board meeting* | public hearing* | community meeting* | polling place* | polling station* | at the polls | voters | parade goer* | paradegoer* | pride parade* | pride march* | pride event* | festival goer* | festivalgoer* | concert goer* | concertgoer* | sit in protest | boycott* | strikers | on strike | walkout* | everyone who attended | people who attended | took part in the protest | participated in the protest | identify the attendees | identify attendees | list of attendees | town hall meeting*

# First Amendment Activity 2 "participation in a particular noncriminal organization"
prohibited_terms = noncriminal-organization: union member* | union meeting* | union organiz* | union rep | union reps | union representative* | union activit* | union membership | members of the union | member of the union | labor union* | labour union* | trade union* | tenant union* | tenants union* | tenants association* | neighborhood association* | neighbourhood association* | block club* | community group* | community organization* | community organisation* | advocacy organization* | civil rights group* | civil rights organization* | charities | student group* | student organization* | naacp | aclu | membership list* | member list* | membership roster* | who belongs to | who belong to | veterans group* | lodge member* | freemason* | masonic | book club* | club member* | aa meeting* | alcoholics anonymous | support group* | charity members | charity volunteers

# First Amendment Activity 3 "race, ethnicity, citizenship, place of origin, age, disability,
# gender, gender identification, sexual orientation, or other protected classification";
# citizenship covers checking immigration status
prohibited_terms = protected-class: because of his race | because of her race | because of their race | because of race | based on race | based on his race | based on her race | based on their race | his race | her race | their race | racial profil* | racially profil* | race based | because he is black | because she is black | because they are black | because he's black | because she's black | because he is hispanic | because she is hispanic | because he is latino | because she is latina | because he is mexican | because he is arab | because he is asian | because she is asian | because he is muslim | because she is muslim | because he is jewish | because she is jewish | because he is gay | because she is gay | because they are gay | because he is trans | because she is trans | looks foreign | foreign looking | looks mexican | looks arab* | looks middle eastern | looks muslim | looks gay | doesn't belong in this neighborhood | does not belong in this neighborhood | doesn't belong here | does not belong here | out of place in this neighborhood | his ethnicity | her ethnicity | their ethnicity | based on ethnicity | because of ethnicity | ethnic background* | ethnic group* | ethnic profil* | ethnic origin* | color of his skin | colour of his skin | color of her skin | colour of her skin | color of their skin | colour of their skin | his skin colo* | her skin colo* | their skin colo* | because of his skin | because of her skin | national origin | place of origin | places of origin | country of origin | where he is from | where she is from | where they are from | where he's from | where she's from | his nationality | her nationality | their nationality | because of his gender | because of her gender | because of gender | based on gender | based on sex | because of her sex | gender identit* | gender expression | gender identification | sexual identity | sexual orientation | transgender* | trans woman | trans women | trans man | trans men | trans person | trans people | transsexual* | nonbinary | non binary | is gay | are gay | is lesbian | is a lesbian | lesbians | gay men | gay people | gay couple* | same sex couple* | bisexual* | homosexual* | queer | lgbt* | drag queen* | drag show* | his disability | her disability | their disability | because of a disability | based on disability | with disabilities | disabled people | disabled person* | because he is disabled | because she is disabled | because of his age | because of her age | because of their age | based on age | because of age | protected class* | protected characteristic* | protected classification* | protected status | gay bar* | gay club* | country she is from | country he is from | country they are from | country she's from | country he's from | which country | immigration* | illegal immigrant* | illegal alien* | illegals | undocumented | deport* | ice detainer* | ice hold* | ice agent* | ice officer* | ice request* | ice warrant* | ice raid* | notify ice | call ice | tell ice | over to ice | i c e | customs enforcement | border patrol | visa overstay* | overstay* | expired visa* | visa status | visa expired | his visa | her visa | their visa | work visa* | student visa* | tourist visa* | visa holder* | on a visa | without a visa | green card status | green card holder* | has a green card | his green card | her green card | lawful permanent resident* | permanent resident* | residency status | resident status | legal status | legal residen* | country legally | country illegally | country lawfully | country unlawfully | us legally | us illegally | states legally | states illegally | here legally | here illegally | legally present | illegally present | entered illegally | crossed the border | border crossing* | border crosser* | citizenship* | proof of citizenship | is a citizen | is he a citizen | is she a citizen | are they citizens | not a citizen | non citizen* | noncitizen* | us citizen* | u s citizen* | american citizen* | foreign national* | illegal entry | unlawful presence | unlawfully present | out of status | asylum* | refugee status | daca | tps | dreamer* | removal proceeding* | removal order* | alien registration | e verify | everify

# Facial Recognition Search Request form asks "Image extracted from video? Yes No":
# stills from recorded video are allowed and must be declared; Prohibitive Uses 2 bans
# only live stream video
forbid_recorded_video = no

# not stated in the policy; default (Investigative Searches 1-2 and Training: searches by
# one trained facial reviewer; no second review required)
review.examiners = 0
# not stated in the policy; default
review.supervisors = 0
# not stated in the policy; default (Documentation: the reviewer "should write a detailed
# report", covered by the proposal note and the possible-match report, G15)
review.written_signoff = no

# Manual Search Report template, quoted verbatim (the missing full stop after NEEDED is
# in the original); see also Database and Data Limitations 4
disclaimer = THIS IS NOT A POSITIVE IDENTIFICATION. IT IS AN INVESTIGATIVE LEAD ONLY, AND FURTHER INVESTIGATION IS NEEDED THIS IS NOT PROBABLE CAUSE TO ARREST OR A REASON FOR DETENTION.

# Audits: monthly audits of all user activities "shall be retained for a period of five
# (5) years" (5 x 365 + 1 leap day)
retention.audit_days = 1826
# not stated in the policy; default (the template sets no retention for probes or case
# files; the report footer requires destruction when LACRIS orders a record sealed)
retention.probe_days = 365
# not stated in the policy; default (the no-match template only asks for a new request
# form to submit additional images)
retention.purge_probe_on_no_candidate = no

# Purpose and Scope: outside agencies may request assistance if they adhere to this policy
# and fill out the request form affirming adherence
outside_agency.allowed = yes
# not stated in the policy; default (a signed request form, not a formal agreement)
outside_agency.require_mou = no
# Facial Recognition Search Request form: "Our agency understands that any results will be
# used as an investigative lead only..." with requestor signature
outside_agency.require_disclaimer_ack = yes

# not stated in the policy; default
reports.weekly = no
# Audits: the local administrator must conduct monthly audits of all user activities
reports.monthly_audit = yes
# not stated in the policy; default
reports.annual = no
# audit.sample_percent omitted: Audits covers all user activities, no sampling rate stated

# not stated in the policy; default
session.hours = 8
# not stated in the policy; default
login.max_failures = 5
# not stated in the policy; default
login.lockout_minutes = 15
# not stated in the policy; default
login.failure_delay_ms = 1000
# not stated in the policy; default (Training refers to CJIS minimum criteria, no figure)
password.min_length = 12

# not stated in the policy; default (Investigative Searches 2 and Training: facial reviewers
# judge suitability and may process images; no numeric minimums are given)
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
