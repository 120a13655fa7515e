import {AiaSessionsBox} from "./aia_sessions_box";
import {Chatter} from "@mail/chatter/web_portal/chatter";

Object.assign(Chatter.components, {AiaSessionsBox});
